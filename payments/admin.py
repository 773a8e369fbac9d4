"""Staff tools: orders and payments are records, read-only; the one action is a refund, which goes
through the same service as the API (provider cancel, enrollments revoked, event logged)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from payments.models import (
    BillingAddress,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    SandboxTransaction,
)
from payments.services.refunds import payment_refund


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderLine
    fields = readonly_fields = ("title", "price", "course", "curriculum")
    extra = 0


class OrderEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = OrderEvent
    fields = readonly_fields = ("created_at", "type", "from_status", "to_status", "actor", "data")
    extra = 0


class PaymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Payment
    fields = readonly_fields = (
        "provider",
        "status",
        "amount",
        "transaction_id",
        "approved_at",
        "refunded_at",
    )
    extra = 0
    show_change_link = True


def _refund(modeladmin, request, payments) -> None:
    refunded = 0
    for payment in payments:
        try:
            payment_refund(actor=request.user, payment_id=payment.pk)
            refunded += 1
        except ApplicationError as error:
            modeladmin.message_user(
                request, f"{_('Payment')} {payment.pk}: {error.message}", messages.ERROR
            )
    if refunded:
        modeladmin.message_user(request, _("%d payments refunded.") % refunded, messages.SUCCESS)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "user", "status", "total", "created_at", "paid_at", "closed_at")
    list_filter = ("status", "created_at", "paid_at")
    list_select_related = ("user",)
    search_fields = ("id", "user__email", "lines__title")
    date_hierarchy = "created_at"
    inlines = (OrderLineInline, PaymentInline, OrderEventInline)
    actions = ("refund",)

    @admin.action(description=_("Refund the selected paid orders"))
    def refund(self, request, queryset):
        payments = Payment.objects.filter(
            order__in=queryset.filter(status=OrderStatus.PAID), status=PaymentStatus.PAID
        )
        _refund(self, request, payments)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "order",
        "user",
        "provider",
        "status",
        "amount",
        "transaction_id",
        "approved_at",
        "refunded_at",
    )
    list_filter = ("status", "provider", "created_at", "approved_at")
    list_select_related = ("order", "user")
    search_fields = ("id", "transaction_id", "approval_id", "user__email")
    date_hierarchy = "created_at"
    actions = ("refund",)

    @admin.action(description=_("Refund the selected paid payments"))
    def refund(self, request, queryset):
        _refund(self, request, queryset.filter(status=PaymentStatus.PAID))


@admin.register(BillingAddress)
class BillingAddressAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "line1", "country", "is_default")
    list_select_related = ("user",)
    search_fields = ("name", "user__email", "line1")
    readonly_fields = ("user", "is_default")

    def has_add_permission(self, request):
        return False  # addresses belong to a user who creates them through the API


@admin.register(SandboxTransaction)
class SandboxTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("transaction_id", "item_name", "amount", "state", "created_at")
    list_filter = ("state",)

"""Cart, orders with a price snapshot, billing addresses and payments through a provider."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from courses.models import Course, Curriculum

# Exactly one of course / curriculum: a cart item or order line is one product.
ONE_PRODUCT = Q(course__isnull=False, curriculum__isnull=True) | Q(
    course__isnull=True, curriculum__isnull=False
)


class CartItem(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_items"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, null=True, related_name="+")
    curriculum = models.ForeignKey(
        Curriculum, on_delete=models.CASCADE, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(condition=ONE_PRODUCT, name="cart_item_one_product"),
            models.UniqueConstraint(
                fields=("user", "course"),
                condition=Q(course__isnull=False),
                name="cart_item_course_once",
            ),
            models.UniqueConstraint(
                fields=("user", "curriculum"),
                condition=Q(curriculum__isnull=False),
                name="cart_item_curriculum_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.course or self.curriculum}"

    @property
    def product(self) -> Course | Curriculum:
        product = self.course or self.curriculum
        assert product is not None  # cart_item_one_product: exactly one is set  # nosec B101
        return product


class BillingAddress(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_addresses"
    )
    name = models.CharField(_("name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    country = models.CharField(_("country"), max_length=2, default="KR")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ("-is_default", "-created_at", "id")
        verbose_name_plural = _("billing addresses")
        constraints = [
            models.UniqueConstraint(
                fields=("user",), condition=Q(is_default=True), name="billing_address_one_default"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}, {self.line1}"


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Pending payment")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


# The only moves an order may make; services change status through order_transition().
ORDER_TRANSITIONS: dict[str, set[str]] = {
    OrderStatus.PENDING: {
        OrderStatus.PAID,
        OrderStatus.CANCELLED,
        OrderStatus.FAILED,
        OrderStatus.EXPIRED,
    },
    OrderStatus.PAID: {OrderStatus.REFUNDED},
    OrderStatus.REFUNDED: set(),
    OrderStatus.CANCELLED: set(),
    OrderStatus.FAILED: set(),
    OrderStatus.EXPIRED: set(),
}


class Order(TimeStampedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    total = models.PositiveIntegerField(_("total (KRW)"))
    currency = models.CharField(_("currency"), max_length=3, default="KRW")
    billing_address = models.JSONField(
        _("billing address"), null=True, blank=True, help_text=_("A copy taken at order time.")
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("closed at"),
        null=True,
        blank=True,
        help_text=_("Refunded, cancelled, failed or expired at."),
    )

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="order_total_positive"),
            models.UniqueConstraint(
                fields=("user",),
                condition=Q(status=OrderStatus.PENDING),
                name="order_one_pending_per_user",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=(OrderStatus.PAID, OrderStatus.REFUNDED))
                | Q(paid_at__isnull=False),
                name="order_paid_has_paid_at",
            ),
        ]
        indexes = [models.Index(fields=("user", "status"))]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"

    @property
    def reference(self) -> str:
        """How enrollments and the provider name this order."""
        return f"order:{self.pk}"

    @property
    def expires_at(self) -> datetime:
        """When a pending order stops being payable: ORDER_PENDING_TTL seconds after it was
        placed (its prices and the products' availability are that old)."""
        return self.created_at + timedelta(seconds=settings.ORDER_PENDING_TTL)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, null=True, related_name="+")
    curriculum = models.ForeignKey(
        Curriculum, on_delete=models.PROTECT, null=True, related_name="+"
    )
    title = models.CharField(_("title at order time"), max_length=200)
    price = models.PositiveIntegerField(_("price at order time (KRW)"))

    class Meta:
        ordering = ("order", "id")
        constraints = [
            models.CheckConstraint(condition=ONE_PRODUCT, name="order_line_one_product"),
            models.UniqueConstraint(
                fields=("order", "course"),
                condition=Q(course__isnull=False),
                name="order_line_course_once",
            ),
            models.UniqueConstraint(
                fields=("order", "curriculum"),
                condition=Q(curriculum__isnull=False),
                name="order_line_curriculum_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.price})"


class OrderEvent(models.Model):
    """Append-only history of an order: every status change and payment step, and who did it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("event"), max_length=40)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("order", "created_at", "id")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.type}"


class PaymentProviderName(models.TextChoices):
    KAKAOPAY = "kakaopay", "KakaoPay"
    SANDBOX = "sandbox", _("Sandbox (development only)")


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    PAID = "paid", _("Paid")
    REFUNDED = "refunded", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED = "failed", _("Failed")


class Payment(TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payments"
    )
    provider = models.CharField(_("provider"), max_length=20, choices=PaymentProviderName.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    amount = models.PositiveIntegerField(_("amount (KRW)"))
    # NULL until the provider assigns one: NULLs never collide in the unique constraint below.
    transaction_id = models.CharField(  # noqa: DJ001
        _("provider transaction id"), max_length=100, null=True, blank=True
    )
    approval_id = models.CharField(_("provider approval id"), max_length=100, blank=True)
    method = models.CharField(_("payment method"), max_length=30, blank=True)
    redirect_url = models.URLField(_("provider checkout URL"), max_length=500, blank=True)
    failure_code = models.CharField(max_length=60, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=("provider", "transaction_id"), name="payment_provider_transaction_unique"
            ),
            # An order is settled by one payment only, however many were started.
            models.UniqueConstraint(
                fields=("order",),
                condition=Q(status__in=(PaymentStatus.PAID, PaymentStatus.REFUNDED)),
                name="payment_one_settled_per_order",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=(PaymentStatus.PAID, PaymentStatus.REFUNDED))
                | Q(approved_at__isnull=False, transaction_id__isnull=False),
                name="payment_settled_is_approved",
            ),
        ]
        indexes = [models.Index(fields=("user", "status"))]

    def __str__(self) -> str:
        return f"Payment {self.pk} ({self.provider}, {self.status})"

    @property
    def refundable_until(self) -> datetime | None:
        """The end of the owner's refund window (REFUND_WINDOW_DAYS after approval); None unless
        the payment is paid (and not refunded)."""
        if self.status != PaymentStatus.PAID or self.approved_at is None:
            return None
        return self.approved_at + timedelta(days=settings.REFUND_WINDOW_DAYS)

    @property
    def receipt_number(self) -> str:
        if self.approved_at is None:
            return ""
        return f"R{timezone.localtime(self.approved_at):%Y%m%d}-{self.pk:08d}"


class SandboxTransaction(models.Model):
    """The sandbox provider's own ledger: it plays the gateway's part locally (development and
    demos only; production refuses the sandbox)."""

    class State(models.TextChoices):
        READY = "ready"
        APPROVED = "approved"
        CANCELLED = "cancelled"

    transaction_id = models.CharField(max_length=40, unique=True)
    amount = models.PositiveIntegerField()
    item_name = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.READY)
    approval_url = models.URLField(max_length=500)
    cancel_url = models.URLField(max_length=500)
    fail_url = models.URLField(max_length=500)
    approval_id = models.CharField(max_length=40, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.transaction_id} ({self.state})"

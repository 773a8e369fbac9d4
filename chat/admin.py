"""Staff's view of chat: rooms and messages to look into, and the reports queue with its
moderation actions (delete the reported messages, mute their senders, dismiss)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat.models import (
    Block,
    FriendRequest,
    Friendship,
    Membership,
    Message,
    MessageReport,
    Room,
)
from chat.services.reports import reports_delete_messages, reports_dismiss, reports_mute_senders

MUTE_FOR = timedelta(hours=24)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the chat's own rules only: staff look, and act through actions."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "last_read_seq", "muted_until", "joined_at")
    readonly_fields = ("user", "last_read_seq", "joined_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("__str__", "kind", "course", "last_seq", "updated_at")
    list_filter = ("kind",)
    list_select_related = ("course",)
    search_fields = ("title", "course__title")
    readonly_fields = ("kind", "course", "direct_key", "created_by", "last_seq")
    fields = ("kind", "title", "course", "direct_key", "created_by", "last_seq")
    inlines = (MembershipInline,)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "sender", "body", "created_at", "edited_at", "deleted_at")
    list_filter = (("deleted_at", admin.EmptyFieldListFilter),)
    list_select_related = ("sender", "room")
    search_fields = ("body", "sender__email", "sender__username")
    raw_id_fields = ("room", "reply_to")


@admin.register(MessageReport)
class MessageReportAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "reason", "status", "reporter", "message_sender", "body_snapshot",
                    "created_at")  # fmt: skip
    list_filter = ("status", "reason")
    list_select_related = ("reporter", "message__sender")
    search_fields = ("body_snapshot", "detail", "reporter__email", "message__sender__email")
    actions = ("delete_messages", "mute_senders", "dismiss")
    # A queue: "open" sorts after "dismissed" and "actioned", so open ones first, oldest first.
    ordering = ("-status", "created_at")

    @admin.display(description=_("sender"))
    def message_sender(self, report: MessageReport):
        return report.message.sender

    @admin.action(description=_("Delete the reported messages"))
    def delete_messages(self, request, queryset):
        closed = reports_delete_messages(staff=request.user, reports=queryset)
        self.message_user(request, _("%d reports actioned.") % closed, messages.SUCCESS)

    @admin.action(description=_("Mute the senders in their rooms for 24 hours"))
    def mute_senders(self, request, queryset):
        muted = reports_mute_senders(
            staff=request.user, reports=queryset, until=timezone.now() + MUTE_FOR
        )
        self.message_user(request, _("%d senders muted.") % muted, messages.SUCCESS)

    @admin.action(description=_("Dismiss the selected reports"))
    def dismiss(self, request, queryset):
        dismissed = reports_dismiss(staff=request.user, reports=queryset)
        self.message_user(request, _("%d reports dismissed.") % dismissed, messages.SUCCESS)


@admin.register(FriendRequest)
class FriendRequestAdmin(ReadOnlyAdmin):
    list_display = ("from_user", "to_user", "status", "created_at", "responded_at")
    list_filter = ("status",)
    list_select_related = ("from_user", "to_user")
    search_fields = ("from_user__email", "to_user__email")


@admin.register(Friendship)
class FriendshipAdmin(ReadOnlyAdmin):
    list_display = ("user_low", "user_high", "created_at")
    list_select_related = ("user_low", "user_high")
    search_fields = ("user_low__email", "user_high__email")


@admin.register(Block)
class BlockAdmin(ReadOnlyAdmin):
    list_display = ("blocker", "blocked", "created_at")
    list_select_related = ("blocker", "blocked")
    search_fields = ("blocker__email", "blocked__email")

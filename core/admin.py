"""Staff's view of the outgoing mail queue: what is waiting, what failed and why."""

from django.contrib import admin

from core.models import OutgoingMail


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    """Read-only, and without the bodies: a password-reset mail carries a link that signs in as
    its recipient, which staff must not be able to read."""

    list_display = ("subject", "recipients", "created_at", "sent_at", "attempts", "last_error")
    list_filter = (("sent_at", admin.EmptyFieldListFilter),)
    search_fields = ("subject",)
    fields = ("to", "subject", "created_at", "sent_at", "attempts", "last_error")
    readonly_fields = fields
    date_hierarchy = "created_at"

    @admin.display(description="to")
    def recipients(self, mail: OutgoingMail) -> str:
        return ", ".join(mail.to)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

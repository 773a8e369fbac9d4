"""Staff tools for users, teams and login sessions."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.auth.services import auth_sessions_revoke
from accounts.forms import CustomUserChangeForm, CustomUserCreationForm
from accounts.models import AuthSession, CustomUser, RevokeReason, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")
    search_fields = ("name",)


@admin.register(CustomUser)
class CustomUserAdmin(DjangoUserAdmin):
    add_form = CustomUserCreationForm
    form = CustomUserChangeForm
    ordering = ("-date_joined",)
    list_display = ("email", "username", "name", "role", "part", "team", "is_active", "date_joined")
    list_filter = ("role", "part", "team", "is_active", "is_staff")
    list_select_related = ("team",)
    search_fields = ("email", "username", "name", "phone")
    readonly_fields = ("last_login", "date_joined")
    actions = ("deactivate_users", "end_all_sessions")
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        (_("Profile"), {"fields": ("name", "part", "team", "introduction", "phone")}),
        (
            _("Permissions"),
            {"fields": ("role", "is_active", "is_staff", "is_superuser", "groups")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "username",
                    "role",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_deactivate(user=obj)

    @admin.action(description=_("Deactivate the selected users and end their sessions"))
    def deactivate_users(self, request, queryset):
        users = list(queryset.filter(is_active=True))
        for user in users:
            services.user_deactivate(user=user)
        self.message_user(request, _("%d users deactivated.") % len(users), messages.SUCCESS)

    @admin.action(description=_("End every session of the selected users"))
    def end_all_sessions(self, request, queryset):
        ended = sum(auth_sessions_revoke(user=user, reason=RevokeReason.STAFF) for user in queryset)
        self.message_user(request, _("%d sessions ended.") % ended, messages.SUCCESS)


@admin.register(AuthSession)
class AuthSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at", "last_used_at", "expires_at", "ip", "revoked_at")
    list_filter = ("revoke_reason", ("revoked_at", admin.EmptyFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("user__email", "ip", "user_agent")
    readonly_fields = [field.name for field in AuthSession._meta.fields]
    actions = ("end_sessions",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("End the selected sessions"))
    def end_sessions(self, request, queryset):
        ended = 0
        for session in queryset.select_related("user").filter(revoked_at__isnull=True):
            ended += auth_sessions_revoke(
                user=session.user, reason=RevokeReason.STAFF, session_ids=[session.pk]
            )
        self.message_user(request, _("%d sessions ended.") % ended, messages.SUCCESS)

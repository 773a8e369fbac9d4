"""Users, their teams, and login sessions (token families)."""

import uuid
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.identity import (
    USERNAME_CANONICAL_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    InvalidIdentity,
    email_canonical,
    username_canonical,
    username_display,
    username_script_problem,
)
from accounts.managers import CustomUserManager
from core.models import TimeStampedModel

username_validator = RegexValidator(
    r"^[\w.-]+\Z",
    _("Use letters, digits and . _ - only."),
    code="invalid_username",
)
_USERNAME_SCRIPT_MESSAGES = {
    "digits": _("Use the digits 0-9 only."),
    "mixed_scripts": _(
        "Use the letters of one alphabet (Latin letters may be combined with Korean, Chinese or "
        "Japanese)."
    ),
    "confusable": _(
        "This username can be mistaken for one written in Latin letters. Use Latin letters, or "
        "letters of your alphabet that do not look like them."
    ),
}


def username_script_validator(value: str) -> None:
    """Refuse names that can be mistaken for another account's (`admin` with a Cyrillic `a`)."""
    problem = username_script_problem(username_display(value))
    if problem:
        raise ValidationError(_USERNAME_SCRIPT_MESSAGES[problem], code="confusable_username")


phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 -]{6,18}[0-9]\Z", _("Enter a valid phone number."), code="invalid_phone"
)


class Role(models.TextChoices):
    STUDENT = "student", _("Student")
    TUTOR = "tutor", _("Tutor")
    ADMIN = "admin", _("Admin")


class Part(models.TextChoices):
    FRONTEND = "frontend", _("Frontend")
    BACKEND = "backend", _("Backend")
    DESIGN = "design", _("Design")
    PRODUCT = "product", _("Product")


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=50, unique=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class CustomUser(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    username = models.CharField(
        _("username"),
        max_length=USERNAME_MAX_LENGTH,
        validators=[username_validator, username_script_validator],
    )
    # The only form of the username that is compared: NFKC_Casefold (accounts.identity).
    username_canonical = models.CharField(
        max_length=USERNAME_CANONICAL_MAX_LENGTH, unique=True, editable=False
    )
    name = models.CharField(_("name"), max_length=50, blank=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.STUDENT)
    part = models.CharField(_("part"), max_length=10, choices=Part.choices, blank=True)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )
    introduction = models.TextField(_("introduction"), blank=True, max_length=1000)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = CustomUserManager()

    # Not a column: the values other apps contribute to the user's own rendering, set when
    # authentication brought them from the cache (accounts.auth.cache.user_contributions).
    contributed: dict[str, Any] | None

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        ordering = ("id",)
        constraints = [
            # Stored emails are canonical (accounts.identity), hence ASCII and lowercase.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="user_email_canonical_lowercase"
            ),
            models.CheckConstraint(
                condition=~models.Q(username_canonical=""), name="user_username_canonical_set"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(role=Role.ADMIN) | models.Q(is_staff=True),
                name="user_admin_role_is_staff",
            ),
        ]
        indexes = [models.Index(fields=("role", "is_active"))]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        try:
            self.identity_canonicalise()
        except InvalidIdentity:
            raise ValidationError(
                {"email": _("Enter a valid email address.")}, code="invalid"
            ) from None

    def save(self, *args, **kwargs) -> None:
        # Derived here rather than in each service so that no write path (admin forms,
        # createsuperuser, social login, a shell) can store a look-alike spelling.
        self.identity_canonicalise()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_canonical"}
        super().save(*args, **kwargs)

    def identity_canonicalise(self) -> None:
        """Raises accounts.identity.InvalidIdentity for an email with no canonical form."""
        self.email = email_canonical(self.email)
        self.username = username_display(self.username)
        self.username_canonical = username_canonical(self.username)


class RevokeReason(models.TextChoices):
    LOGOUT = "logout", _("Logged out")
    LOGOUT_ALL = "logout_all", _("Logged out everywhere")
    SESSION_DELETED = "session_deleted", _("Session ended by the user")
    REFRESH_REUSED = "refresh_reused", _("A consumed refresh token was reused")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    PASSWORD_RESET = "password_reset", _("Password reset")
    DEACTIVATED = "deactivated", _("Account deactivated")
    STAFF = "staff", _("Ended by staff")
    SOCIAL_LINKED = "social_linked", _("A verified social login took over the account")


class AuthSession(models.Model):
    """One login: a family of refresh tokens of which exactly one (refresh_jti) is live."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(CustomUser, on_delete=models.CASCADE, related_name="auth_sessions")
    refresh_jti = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text=_("Absolute cap: rotation never extends it."))
    user_agent = models.CharField(max_length=256, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=20, choices=RevokeReason.choices, blank=True)

    class Meta:
        ordering = ("-last_used_at",)
        indexes = [models.Index(fields=("user", "revoked_at"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="auth_session_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

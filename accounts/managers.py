"""Creating users with the right role and flags in one place."""

from typing import TYPE_CHECKING

from django.contrib.auth.base_user import BaseUserManager

from accounts.identity import email_canonical_or_none, login_canonical

if TYPE_CHECKING:
    from accounts.models import CustomUser


class CustomUserManager(BaseUserManager["CustomUser"]):
    use_in_migrations = True

    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        """The canonical form (accounts.identity); unchanged if it has none (validation says)."""
        return email_canonical_or_none(email or "") or (email or "")

    def get_by_natural_key(self, key: str | None) -> "CustomUser":
        """Django's authenticate() and createsuperuser name accounts by email: canonical only."""
        canonical = login_canonical(key or "")
        if canonical is None or "@" not in canonical:
            raise self.model.DoesNotExist
        return self.get(email=canonical)

    def _create_user(self, email: str, username: str, password: str | None, **extra):
        if not email:
            raise ValueError("Users must have an email address.")
        if not username:
            raise ValueError("Users must have a username.")
        user = self.model(email=self.normalize_email(email), username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, username: str, password: str | None = None, **extra):
        extra.setdefault("role", "student")
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, username, password, **extra)

    def create_tutor(self, email: str, username: str, password: str | None = None, **extra):
        extra["role"] = "tutor"
        return self.create_user(email, username, password, **extra)

    def create_superuser(self, email: str, username: str, password: str | None = None, **extra):
        extra.update(role="admin", is_staff=True, is_superuser=True)
        return self._create_user(email, username, password, **extra)

"""Reads of the accounts domain."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import AuthSession, CustomUser


def user_get_by_login(*, login: str) -> CustomUser | None:
    """An email if it has an @ (usernames cannot), otherwise a username; case-insensitive."""
    login = (login or "").strip()
    if not login:
        return None
    lookup = {"email__iexact": login} if "@" in login else {"username__iexact": login}
    return CustomUser.objects.select_related("team").filter(**lookup).first()


def user_list() -> QuerySet[CustomUser]:
    """Filtered by accounts.filters.UserFilter in the API."""
    return CustomUser.objects.select_related("team").order_by("id")


def username_is_available(*, username: str) -> bool:
    return not CustomUser.objects.filter(username__iexact=username).exists()


def email_is_available(*, email: str) -> bool:
    return not CustomUser.objects.filter(email__iexact=email).exists()


def auth_session_list_live(*, user: CustomUser) -> QuerySet[AuthSession]:
    return AuthSession.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at")


def refresh_token_is_current(*, token) -> bool:
    """The refresh token is the one live token of a live session of an active user."""
    return AuthSession.objects.filter(
        pk=token["sid"],
        user_id=token["user_id"],
        refresh_jti=token["jti"],
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
        user__is_active=True,
    ).exists()

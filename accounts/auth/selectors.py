"""Reads of login sessions and their tokens."""

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.auth.authentication import SessionJWTAuthentication
from accounts.auth.tokens import access_token_decode, refresh_token_decode
from accounts.errors import TokenNotValid
from accounts.models import AuthSession, CustomUser


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


def token_verify(*, raw: str) -> None:
    """Accept an access token that would authenticate a request now, or the current refresh token
    of a live session. Raises TokenExpired for an access token past its expiry (the client should
    refresh) and TokenNotValid for anything else."""
    try:
        access = access_token_decode(raw)
    except TokenNotValid:
        refresh = refresh_token_decode(raw)
        if not refresh_token_is_current(token=refresh):
            raise TokenNotValid() from None
        return
    try:
        SessionJWTAuthentication().get_user(access)
    except AuthenticationFailed:
        raise TokenNotValid() from None

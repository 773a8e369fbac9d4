"""Cookie mode: the refresh token lives in an HttpOnly cookie scoped to /api/auth/.

Cookies ride along on cross-site requests, so endpoints that read the cookie also require an
Origin from the CORS allow-list (or this host itself): a CSRF defence that needs no token.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.auth.tokens import TokenPair
from accounts.errors import OriginNotAllowed, RefreshTokenMissing, TokenNotValid


def cookie_mode() -> bool:
    return settings.AUTH_REFRESH_COOKIE


def refresh_token_from_request(request) -> str | None:
    if cookie_mode():
        return request.COOKIES.get(settings.AUTH_REFRESH_COOKIE_NAME) or None
    data = request.data if hasattr(request.data, "get") else {}
    value = data.get("refresh")
    return value if isinstance(value, str) and value else None


def origin_check(request) -> None:
    """In cookie mode, refuse requests whose Origin is not one the frontend is served from."""
    if not cookie_mode():
        return
    origin = request.headers.get("Origin")
    own_origin = f"{request.scheme}://{request.get_host()}"
    allowed = set(settings.CORS_ALLOWED_ORIGINS) | {own_origin}
    if (
        not origin
        or origin.rstrip("/") not in allowed
        or urlsplit(origin).scheme not in ("http", "https")
    ):
        raise OriginNotAllowed()


def refresh_token_presented(request) -> str:
    """The refresh token a refresh or logout request presents: the cookie, from an allowed
    Origin, in cookie mode; the `refresh` field otherwise."""
    origin_check(request)
    raw = refresh_token_from_request(request)
    if raw is not None:
        return raw
    if hasattr(request.data, "get") and "refresh" in request.data:
        raise TokenNotValid()  # sent, but not a token string
    if cookie_mode():
        raise RefreshTokenMissing()
    raise serializers.ValidationError({"refresh": [_("This field is required.")]})


def token_pair_body(pair: TokenPair) -> dict:
    """The token part of a response body: without the refresh token in cookie mode."""
    if cookie_mode():
        return {"access": pair.access}
    return {"access": pair.access, "refresh": pair.refresh}


def refresh_cookie_set(response, pair: TokenPair) -> None:
    if not cookie_mode():
        return
    response.set_cookie(
        settings.AUTH_REFRESH_COOKIE_NAME,
        pair.refresh,
        expires=pair.refresh_expires_at,
        path=settings.AUTH_REFRESH_COOKIE_PATH,
        secure=settings.AUTH_REFRESH_COOKIE_SECURE,
        httponly=True,
        samesite=settings.AUTH_REFRESH_COOKIE_SAMESITE,
    )


def refresh_cookie_clear(response) -> None:
    if not cookie_mode():
        return
    response.delete_cookie(
        settings.AUTH_REFRESH_COOKIE_NAME,
        path=settings.AUTH_REFRESH_COOKIE_PATH,
        samesite=settings.AUTH_REFRESH_COOKIE_SAMESITE,
    )

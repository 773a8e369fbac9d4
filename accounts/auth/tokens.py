"""Signing and reading our JWTs (simplejwt underneath): every token names its session (`sid`)."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import jwt
from django.conf import settings
from django.utils import timezone
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token

from accounts.errors import TokenExpired, TokenNotValid

SESSION_CLAIM = "sid"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    refresh_expires_at: datetime


def _expiry_timestamp(now: datetime, lifetime, cap: datetime) -> int:
    return int(min(now + lifetime, cap).timestamp())


def _build(token_class: type[Token], *, user_id: int, session_id, jti: str | None, exp: int):
    token = token_class()
    token["exp"] = exp
    token["user_id"] = user_id
    token[SESSION_CLAIM] = str(session_id)
    if jti is not None:
        token["jti"] = jti
    return str(token)


def token_pair_issue(*, user_id: int, session_id, refresh_jti: str, cap: datetime) -> TokenPair:
    now = timezone.now()
    refresh_exp = _expiry_timestamp(now, settings.REFRESH_TOKEN_LIFETIME, cap)
    access_exp = _expiry_timestamp(now, settings.ACCESS_TOKEN_LIFETIME, cap)
    return TokenPair(
        access=_build(
            AccessToken, user_id=user_id, session_id=session_id, jti=None, exp=access_exp
        ),
        refresh=_build(
            RefreshToken, user_id=user_id, session_id=session_id, jti=refresh_jti, exp=refresh_exp
        ),
        refresh_expires_at=datetime.fromtimestamp(refresh_exp, tz=timezone.get_current_timezone()),
    )


def access_token_has_expired(raw: str | bytes) -> bool:
    """True only for a well-signed access token whose expiry alone fails (PyJWT checks the
    signature before `exp`, so only then may the payload be read unverified)."""
    try:
        AccessToken(raw)  # type: ignore[arg-type]  # simplejwt#787: the encoded token typed as Token
    except ExpiredTokenError:
        payload = jwt.decode(raw, options={"verify_signature": False})
        return payload.get(api_settings.TOKEN_TYPE_CLAIM) == AccessToken.token_type
    except TokenError:
        return False
    return False


def _decode(token_class: type[Token], raw: str | bytes) -> Token:
    if token_class is AccessToken and access_token_has_expired(raw):
        raise TokenExpired()
    try:
        token = token_class(raw)  # type: ignore[arg-type]  # simplejwt#787, as above
    except TokenError as exc:
        raise TokenNotValid() from exc
    if not claims_are_well_formed(token):
        raise TokenNotValid()
    return token


def claims_are_well_formed(token: Token) -> bool:
    """Signed by us is not enough: a malformed claim must never reach a query."""
    user_id, session_id = token.get("user_id"), token.get(SESSION_CLAIM)
    if type(user_id) is not int or not isinstance(session_id, str):
        return False
    if not 1 <= user_id < 2**63:  # beyond a bigint the database driver would raise
        return False
    try:
        uuid.UUID(session_id)
    except ValueError:
        return False
    return True


def refresh_token_decode(raw: str) -> Token:
    """Raises TokenNotValid."""
    return _decode(RefreshToken, raw)


def access_token_decode(raw: str) -> Token:
    """Raises TokenExpired or TokenNotValid."""
    return _decode(AccessToken, raw)

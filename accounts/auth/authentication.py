"""Bearer (or `JWT`) access tokens whose session is checked on every request."""

import time

from django.utils.translation import gettext as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings

from accounts.auth.cache import SessionEnded, authenticated_user
from accounts.auth.state import auth_state
from accounts.auth.tokens import SESSION_CLAIM, access_token_has_expired, claims_are_well_formed
from accounts.errors import TokenExpired, TokenNotValid

# auth_state.verified_tokens: the check's outcome cannot change for the same bytes except through
# expiry, which is tested on every hit; revocation is checked on every request regardless.
# Bounded: cleared when full.
VERIFIED_TOKENS_MAX = 4096


class SessionJWTAuthentication(JWTAuthentication):
    """Refusals are DRF's AuthenticationFailed, so that the 401 carries WWW-Authenticate."""

    # Its 401 codes beyond the framework's, for the schema (core.openapi).
    error_codes = (
        TokenNotValid.code,
        TokenExpired.code,
        "session_revoked",
        "user_not_found",
        "user_inactive",
        "bad_authorization_header",  # simplejwt: not `<scheme> <token>`
    )

    def get_raw_token(self, header: bytes):
        # Authentication schemes are case-insensitive (RFC 9110 section 11.1): accept "bearer".
        scheme, _, rest = header.partition(b" ")
        for known in api_settings.AUTH_HEADER_TYPES:
            if scheme.lower() == known.lower().encode():
                header = known.encode() + b" " + rest
        return super().get_raw_token(header)

    def get_validated_token(self, raw_token):
        verified = auth_state.verified_tokens
        token = verified.get(raw_token)
        if token is not None and token["exp"] > time.time():
            return token
        try:
            token = super().get_validated_token(raw_token)
        except InvalidToken:
            if access_token_has_expired(raw_token):
                raise AuthenticationFailed(
                    str(TokenExpired.message), code=TokenExpired.code
                ) from None
            raise
        if not claims_are_well_formed(token):
            raise AuthenticationFailed(str(TokenNotValid.message), code=TokenNotValid.code)
        if len(verified) >= VERIFIED_TOKENS_MAX:
            verified.clear()
        verified[raw_token] = token
        return token

    def get_user(self, validated_token):
        """The session's verdict and the user come from one cache round trip (see auth.cache)."""
        try:
            user = authenticated_user(
                session_id=validated_token[SESSION_CLAIM], user_id=validated_token["user_id"]
            )
        except SessionEnded:
            raise AuthenticationFailed(
                _("This session has ended."), code="session_revoked"
            ) from None
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user

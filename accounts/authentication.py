"""Bearer (or `JWT`) access tokens whose session is checked on every request."""

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

from accounts.auth_cache import SessionEnded, authenticated_user
from accounts.tokens import SESSION_CLAIM, claims_are_well_formed


class SessionJWTAuthentication(JWTAuthentication):
    def get_raw_token(self, header: bytes):
        # Authentication schemes are case-insensitive (RFC 9110 section 11.1): accept "bearer".
        scheme, _, rest = header.partition(b" ")
        for known in api_settings.AUTH_HEADER_TYPES:
            if scheme.lower() == known.lower().encode():
                header = known.encode() + b" " + rest
        return super().get_raw_token(header)

    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if not claims_are_well_formed(token):
            raise AuthenticationFailed(_("Token is invalid or expired."), code="token_not_valid")
        return token

    def get_user(self, validated_token):
        """The session's verdict and the user come from one cache round trip (see auth_cache)."""
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

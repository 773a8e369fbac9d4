"""The rules accounts enforces: credentials, tokens and their cookie, sessions, password reset,
teams and social login. Each class is one stable code with its status (core.exceptions)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.errors import NotAuthenticated, NotFound
from core.exceptions import ApplicationError

# --- Credentials and tokens ---------------------------------------------------------------------


class InvalidCredentials(ApplicationError):
    """Unknown login, wrong password and deactivated account alike (no account enumeration)."""

    code = "invalid_credentials"
    status = status.HTTP_401_UNAUTHORIZED
    message = _("The login or password is incorrect.")


class TokenNotValid(ApplicationError):
    """Forged, malformed, of the wrong type, of an ended session, or a refresh token already
    consumed (reuse ends the whole session)."""

    code = "token_not_valid"
    status = status.HTTP_401_UNAUTHORIZED
    message = _("Token is invalid or expired.")


class TokenExpired(ApplicationError):
    """Only for a well-signed access token past its `exp`: the client should refresh."""

    code = "token_expired"
    status = status.HTTP_401_UNAUTHORIZED
    message = _("The access token has expired. Refresh it.")


class RefreshTokenMissing(NotAuthenticated):
    """Cookie mode, and no refresh cookie came: logged out (or it expired), so the frontend must
    log in again rather than fix a field."""

    code = "not_authenticated"
    status = status.HTTP_401_UNAUTHORIZED
    message = _("No refresh token was sent. Log in again.")


class OriginNotAllowed(ApplicationError):
    """Cookie mode: an endpoint that reads the refresh cookie answers only an Origin the frontend
    is served from (a CSRF defence that needs no token)."""

    code = "origin_not_allowed"
    status = status.HTTP_403_FORBIDDEN
    message = _("This request must come from an allowed origin.")


class SessionNotFound(NotFound):
    """No live session of the caller's has this id (another user's session is no different)."""

    code = "not_found"
    status = status.HTTP_404_NOT_FOUND
    message = _("No such session.")


# --- Passwords and teams ------------------------------------------------------------------------


class InvalidResetToken(ApplicationError):
    """The link is malformed, of no active account, expired, or already used (the token is bound
    to the password hash and the last login)."""

    code = "invalid_reset_token"
    message = _("This password reset link is invalid or has expired.")


class TeamExists(ApplicationError):
    code = "team_exists"
    status = status.HTTP_409_CONFLICT
    message = _("A team with this name already exists.")


# --- Social login -------------------------------------------------------------------------------


class UnknownProvider(ApplicationError):
    """Not `google` or `kakao`, or not set up here (no client id)."""

    code = "unknown_provider"
    status = status.HTTP_404_NOT_FOUND
    message = _("Sign-in with this provider is not available.")


class SocialAuthFailed(ApplicationError):
    """The provider rejected the code or token, refused the sign-in, or replied nonsense."""

    code = "social_auth_failed"
    status = status.HTTP_401_UNAUTHORIZED
    message = _("The provider did not confirm this sign-in. Please sign in again.")


class SocialTokenRejected(ApplicationError):
    """The provider's access token was issued to another application."""

    code = "social_token_rejected"
    status = status.HTTP_401_UNAUTHORIZED
    message = _("This access token was not issued to this application.")


class SocialTokenUnverifiable(ApplicationError):
    """KAKAO_APP_ID is not set, so a Kakao access token's application cannot be checked."""

    code = "social_token_unverifiable"
    message = _("Kakao access tokens cannot be verified here. Sign in with a Kakao code.")


class SocialEmailRequired(ApplicationError):
    """The provider shared no (usable) email address."""

    code = "social_email_required"
    message = _("The provider did not share your email address. Allow access to it and try again.")


class EmailUnverified(ApplicationError):
    """The provider has not verified the email: an account that has it is not linked, and no
    account is made on it (it could later be linked to the email's real owner)."""

    code = "email_unverified"
    status = status.HTTP_409_CONFLICT
    message = _(
        "An account with this email already exists and the provider has not verified "
        "the email. Log in with your password instead."
    )


class ProviderUnavailable(ApplicationError):
    """The provider failed, timed out or could not be reached."""

    code = "provider_unavailable"
    status = status.HTTP_502_BAD_GATEWAY
    message = _("The sign-in provider is not responding. Try again later.")

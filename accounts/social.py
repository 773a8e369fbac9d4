"""Social login (Google, Kakao): the provider calls, the SOCIAL_AUTH_PIPELINE steps that pick or
make the local account, and the service that turns a provider identity into one of our sessions."""

import logging
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from social_core.backends.base import BaseAuth
from social_core.exceptions import SocialAuthBaseException
from social_django.utils import load_strategy

from accounts.identity import email_canonical_or_none, username_script_problem
from accounts.models import CustomUser, RevokeReason, Role
from accounts.selectors import username_is_available
from accounts.services import (
    ClientInfo,
    auth_session_start,
    auth_sessions_revoke,
    invalid_credentials,
)
from accounts.tokens import TokenPair
from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

# Path names of the API -> social-auth backend names.
PROVIDERS = {"google": "google-oauth2", "kakao": "kakao"}
GOOGLE_TOKENINFO_URL = "https://oauth2.googleapis.com/tokeninfo"
KAKAO_TOKENINFO_URL = "https://kapi.kakao.com/v1/user/access_token_info"
# social-auth error codes that mean "the provider is down or slow", not "the credential is bad";
# social-auth classifies any provider 5xx without an OAuth error code as "unavailable".
PROVIDER_DOWN_CODES = frozenset(
    {"unavailable", "timeout", "connection_failed", "tls_error", "rate_limited"}
)

USERNAME_MAX_LENGTH = CustomUser._meta.get_field("username").max_length
NAME_MAX_LENGTH = CustomUser._meta.get_field("name").max_length
USERNAME_MIN_LENGTH = 2
USERNAME_SUFFIX_LENGTH = 6
_USERNAME_SPACES = re.compile(r"\s+")
_USERNAME_DISALLOWED = re.compile(r"[^\w.-]+")


# --- Errors -------------------------------------------------------------------------------------


def unknown_provider() -> ApplicationError:
    return ApplicationError(
        "unknown_provider",
        _("Sign-in with this provider is not available."),
        status.HTTP_404_NOT_FOUND,
    )


def social_auth_failed() -> ApplicationError:
    return ApplicationError(
        "social_auth_failed",
        _("The provider did not confirm this sign-in. Please sign in again."),
        status.HTTP_401_UNAUTHORIZED,
    )


def provider_unavailable() -> ApplicationError:
    return ApplicationError(
        "provider_unavailable",
        _("The sign-in provider is not responding. Try again later."),
        status.HTTP_502_BAD_GATEWAY,
    )


def social_token_rejected() -> ApplicationError:
    return ApplicationError(
        "social_token_rejected",
        _("This access token was not issued to this application."),
        status.HTTP_401_UNAUTHORIZED,
    )


@contextmanager
def _provider_errors(*, provider: str) -> Iterator[None]:
    """social-auth failures (HTTP errors, timeouts, bad replies, pipeline refusals) -> envelope."""
    try:
        yield
    except SocialAuthBaseException as exc:
        logger.warning(
            "social login via %s failed: %s at %s (provider code %s, HTTP %s)",
            provider,
            exc.code,
            exc.stage,
            exc.provider_code,
            exc.status_code,
        )
        if exc.code in PROVIDER_DOWN_CODES:
            raise provider_unavailable() from exc
        raise social_auth_failed() from exc


# --- Provider calls -----------------------------------------------------------------------------


def _backend_load(*, provider: str) -> BaseAuth:
    backend_name = PROVIDERS.get(provider)
    if backend_name is None:
        raise unknown_provider()
    try:
        backend = load_strategy().get_backend(backend_name)
    except SocialAuthBaseException as exc:
        raise unknown_provider() from exc
    client_id, _secret = backend.get_key_and_secret()
    if not client_id:
        # Integrations switch on by environment variables: no client id, no provider.
        raise unknown_provider()
    return backend


def social_provider_check(*, provider: str) -> None:
    """404 `unknown_provider` unless the provider is supported and configured here."""
    _backend_load(provider=provider)


def _code_exchange(
    backend: BaseAuth, *, code: str, redirect_uri: str, code_verifier: str | None
) -> str:
    # Built here rather than by backend.auth_complete(): the client, not a server-side session,
    # holds the OAuth state and the PKCE verifier, and KakaoOAuth2 leaves out the redirect_uri
    # that Kakao's token endpoint requires.
    client_id, client_secret = backend.get_key_and_secret()
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
        "code_verifier": code_verifier,
    }
    response = backend.request_access_token(
        backend.access_token_url(),
        method=backend.ACCESS_TOKEN_METHOD,
        headers=backend.auth_headers(),
        data={name: value for name, value in params.items() if value},
    )
    return backend.get_access_token(response)


def _access_token_audience_check(backend: BaseAuth, *, access_token: str) -> None:
    """A token that another app obtained for its user must not sign that user in here."""
    if backend.name == PROVIDERS["google"]:
        info = backend.get_json(
            GOOGLE_TOKENINFO_URL, params={"access_token": access_token}, stage="token_validation"
        )
        client_id = backend.setting("KEY")
        if not isinstance(info, dict) or client_id not in (info.get("aud"), info.get("azp")):
            raise social_token_rejected()
    elif backend.name == PROVIDERS["kakao"]:
        # Kakao names the app by its numeric app id, which the REST API key does not reveal.
        # Without it no token can be checked, so none is accepted (production refuses to start).
        app_id = backend.setting("APP_ID")
        if not app_id:
            raise ApplicationError(
                "social_token_unverifiable",
                _("Kakao access tokens cannot be verified here. Sign in with a Kakao code."),
                status.HTTP_400_BAD_REQUEST,
            )
        info = backend.get_json(
            KAKAO_TOKENINFO_URL,
            headers={"Authorization": f"Bearer {access_token}"},
            stage="token_validation",
        )
        if not isinstance(info, dict) or str(info.get("app_id")) != str(app_id):
            raise social_token_rejected()


def _profile_fetch(backend: BaseAuth, *, access_token: str) -> dict[str, Any]:
    profile = backend.user_data(access_token)
    if not isinstance(profile, dict):
        raise social_auth_failed()
    return profile


# --- Pipeline steps (named in SOCIAL_AUTH_PIPELINE) ---------------------------------------------


def _email_is_verified(*, backend: BaseAuth, response: dict[str, Any]) -> bool:
    if backend.name == PROVIDERS["google"]:
        return response.get("email_verified") is True
    if backend.name == PROVIDERS["kakao"]:
        account = response.get("kakao_account") or {}
        return account.get("is_email_verified") is True and account.get("is_email_valid") is True
    return False


def associate_by_verified_email(
    *, backend: BaseAuth, details: dict, response: dict, user: CustomUser | None = None, **kwargs
) -> dict | None:
    """Link a new identity to the account holding its email, only if the provider verified it.

    An unverified match is refused rather than turned into a second account: the email column
    is unique, and linking on an unverified email would hand the account to whoever typed it.
    """
    if user is not None:
        return None
    email = details.get("email")
    if not email:
        return None
    canonical = email_canonical_or_none(email)
    existing = CustomUser.objects.filter(email=canonical).first() if canonical else None
    if existing is None:
        return None
    if not _email_is_verified(backend=backend, response=response):
        raise ApplicationError(
            "email_unverified",
            _(
                "An account with this email already exists and the provider has not verified "
                "the email. Log in with your password instead."
            ),
            status.HTTP_409_CONFLICT,
        )
    if existing.has_usable_password():
        # Whoever registered this email with a password never proved owning it; the provider
        # just did. Ending that password and its sessions defeats account pre-hijacking; the
        # owner can set a new password through the emailed reset link.
        existing.set_unusable_password()
        existing.save(update_fields=["password"])
        auth_sessions_revoke(user=existing, reason=RevokeReason.SOCIAL_LINKED)
    return {"user": existing, "is_new": False}


def _profile_name(*, details: dict, response: dict) -> str:
    kakao_profile = (response.get("kakao_account") or {}).get("profile") or {}
    name = details.get("fullname") or kakao_profile.get("nickname") or ""
    return str(name).strip()[:NAME_MAX_LENGTH]


def _username_base(source: str) -> str:
    cleaned = _USERNAME_SPACES.sub("_", unicodedata.normalize("NFKC", source).strip())
    return _USERNAME_DISALLOWED.sub("", cleaned)[:USERNAME_MAX_LENGTH]


def username_generate(*, email: str, nickname: str = "") -> str:
    """A free username (canonically) from the email's local part, else the nickname."""
    base = next(
        (
            candidate
            for candidate in (_username_base(email.partition("@")[0]), _username_base(nickname))
            if len(candidate) >= USERNAME_MIN_LENGTH and username_script_problem(candidate) is None
        ),
        "user",
    )
    username = base
    while not username_is_available(username=username):
        suffix = get_random_string(USERNAME_SUFFIX_LENGTH, "abcdefghijklmnopqrstuvwxyz0123456789")
        username = f"{base[: USERNAME_MAX_LENGTH - USERNAME_SUFFIX_LENGTH - 1]}_{suffix}"
    return username


def create_user(
    *,
    backend: BaseAuth,
    details: dict,
    response: dict,
    user: CustomUser | None = None,
    **kwargs,
) -> dict:
    """A student account with an unusable password for an identity no local account has."""
    if user is not None:
        return {"is_new": False}
    if details.get("email") and not _email_is_verified(backend=backend, response=response):
        # An account made on an unverified email could later be linked, by that email, to the
        # identity of whoever really owns it.
        raise ApplicationError(
            "email_unverified",
            _("The provider has not verified your email address. Verify it there and try again."),
            status.HTTP_409_CONFLICT,
        )
    email = email_canonical_or_none(details.get("email") or "") or ""
    try:
        CustomUser._meta.get_field("email").clean(email, None)
    except ValidationError:
        raise ApplicationError(
            "social_email_required",
            _("The provider did not share your email address. Allow access to it and try again."),
        ) from None
    name = _profile_name(details=details, response=response)
    new_user = CustomUser.objects.create_user(
        email=email,
        username=username_generate(email=email, nickname=name),
        password=None,
        name=name,
        role=Role.STUDENT,
    )
    return {"user": new_user, "is_new": True}


# --- Service ------------------------------------------------------------------------------------


def _sign_in(
    backend: BaseAuth, *, profile: dict[str, Any], client: ClientInfo
) -> tuple[CustomUser, TokenPair, bool]:
    with transaction.atomic(), _provider_errors(provider=backend.name):
        # Django's authenticate() hands the profile to the backend, which runs
        # SOCIAL_AUTH_PIPELINE. The provider's tokens stay out of the profile, so
        # load_extra_data stores none of them.
        user = backend.strategy.authenticate(backend, response=dict(profile))
        if user is None:
            raise social_auth_failed()
        if not user.is_active:
            raise invalid_credentials()
        _session, pair = auth_session_start(user=user, client=client)
    return user, pair, bool(getattr(user, "is_new", False))


def social_login(
    *,
    provider: str,
    client: ClientInfo,
    code: str | None = None,
    redirect_uri: str | None = None,
    code_verifier: str | None = None,
    access_token: str | None = None,
) -> tuple[CustomUser, TokenPair, bool]:
    """Sign in with a provider's authorization code or access token: (user, tokens, created).

    Provider calls happen before any database write; every write (account, link, session)
    commits together or not at all.
    """
    if (code and not redirect_uri) or not (code or access_token):
        raise ValueError("Give code and redirect_uri, or access_token.")
    backend = _backend_load(provider=provider)
    with _provider_errors(provider=backend.name):
        if code:
            access_token = _code_exchange(
                backend, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            )
        else:
            _access_token_audience_check(backend, access_token=access_token)
        profile = _profile_fetch(backend, access_token=access_token)
    try:
        return _sign_in(backend, profile=profile, client=client)
    except IntegrityError:
        # A concurrent first sign-in of the same person (or a username taken at the same moment)
        # lost a unique constraint; the second attempt finds the winner's rows.
        return _sign_in(backend, profile=profile, client=client)

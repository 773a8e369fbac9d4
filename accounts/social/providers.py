"""The calls to Google and Kakao: the supported providers, the authorization-code exchange, the
check that an access token was issued to this application, and the profile."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from social_core.backends.base import BaseAuth
from social_core.backends.oauth import BaseOAuth2
from social_core.exceptions import SocialAuthBaseException
from social_django.utils import load_strategy

from accounts.errors import (
    ProviderUnavailable,
    SocialAuthFailed,
    SocialTokenRejected,
    SocialTokenUnverifiable,
    UnknownProvider,
)

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


@contextmanager
def provider_errors(*, provider: str) -> Iterator[None]:
    """social-auth failures (HTTP errors, timeouts, bad replies, pipeline refusals) -> our rules:
    ProviderUnavailable or SocialAuthFailed."""
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
            raise ProviderUnavailable() from exc
        raise SocialAuthFailed() from exc


def backend_load(*, provider: str) -> BaseOAuth2:
    """The provider's social-auth backend; UnknownProvider unless supported and configured."""
    backend_name = PROVIDERS.get(provider)
    if backend_name is None:
        raise UnknownProvider()
    try:
        backend = load_strategy().get_backend(backend_name)
    except SocialAuthBaseException as exc:
        raise UnknownProvider() from exc
    if not isinstance(backend, BaseOAuth2):  # every provider in PROVIDERS is OAuth2
        raise UnknownProvider()
    client_id, _secret = backend.get_key_and_secret()
    if not client_id:
        # Integrations switch on by environment variables: no client id, no provider.
        raise UnknownProvider()
    return backend


def code_exchange(
    backend: BaseOAuth2, *, code: str, redirect_uri: str, code_verifier: str | None
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


def access_token_audience_check(backend: BaseOAuth2, *, access_token: str) -> None:
    """A token that another app obtained for its user must not sign that user in here."""
    if backend.name == PROVIDERS["google"]:
        info = backend.get_json(
            GOOGLE_TOKENINFO_URL, params={"access_token": access_token}, stage="token_validation"
        )
        client_id = backend.setting("KEY")
        if not isinstance(info, dict) or client_id not in (info.get("aud"), info.get("azp")):
            raise SocialTokenRejected()
    elif backend.name == PROVIDERS["kakao"]:
        # Kakao names the app by its numeric app id, which the REST API key does not reveal.
        # Without it no token can be checked, so none is accepted (production refuses to start).
        app_id = backend.setting("APP_ID")
        if not app_id:
            raise SocialTokenUnverifiable()
        info = backend.get_json(
            KAKAO_TOKENINFO_URL,
            headers={"Authorization": f"Bearer {access_token}"},
            stage="token_validation",
        )
        if not isinstance(info, dict) or str(info.get("app_id")) != str(app_id):
            raise SocialTokenRejected()


def profile_fetch(backend: BaseOAuth2, *, access_token: str) -> dict[str, Any]:
    profile = backend.user_data(access_token)
    if not isinstance(profile, dict):
        raise SocialAuthFailed()
    return profile


def email_is_verified(*, backend: BaseAuth, response: dict[str, Any]) -> bool:
    """Whether the provider vouches for the profile's email address."""
    if backend.name == PROVIDERS["google"]:
        return response.get("email_verified") is True
    if backend.name == PROVIDERS["kakao"]:
        account = response.get("kakao_account") or {}
        return account.get("is_email_verified") is True and account.get("is_email_valid") is True
    return False

"""The social login service: a provider's authorization code or access token -> our session."""

from typing import Any

from django.db import IntegrityError, transaction
from social_core.backends.oauth import BaseOAuth2

from accounts.auth.services import ClientInfo, auth_session_start
from accounts.auth.tokens import TokenPair
from accounts.errors import InvalidCredentials, SocialAuthFailed
from accounts.models import CustomUser
from accounts.social.providers import (
    access_token_audience_check,
    backend_load,
    code_exchange,
    profile_fetch,
    provider_errors,
)

SOCIAL_LOGIN_ARGUMENTS = "Give code and redirect_uri, or access_token."


def social_provider_check(*, provider: str) -> None:
    """UnknownProvider (404) unless the provider is supported and configured here."""
    backend_load(provider=provider)


def _sign_in(
    backend: BaseOAuth2, *, profile: dict[str, Any], client: ClientInfo
) -> tuple[CustomUser, TokenPair, bool]:
    with transaction.atomic(), provider_errors(provider=backend.name):
        # Django's authenticate() hands the profile to the backend, which runs
        # SOCIAL_AUTH_PIPELINE (accounts.social.pipeline). The provider's tokens stay out of the
        # profile, so load_extra_data stores none of them.
        user = backend.strategy.authenticate(backend, response=dict(profile))
        if not isinstance(user, CustomUser):  # None: the pipeline refused the identity
            raise SocialAuthFailed()
        if not user.is_active:
            raise InvalidCredentials()
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
        raise ValueError(SOCIAL_LOGIN_ARGUMENTS)
    backend = backend_load(provider=provider)
    with provider_errors(provider=backend.name):
        if code and redirect_uri:
            access_token = code_exchange(
                backend, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            )
        elif access_token:
            access_token_audience_check(backend, access_token=access_token)
        else:  # refused above; spelled out for the type checker
            raise ValueError(SOCIAL_LOGIN_ARGUMENTS)
        profile = profile_fetch(backend, access_token=access_token)
    try:
        return _sign_in(backend, profile=profile, client=client)
    except IntegrityError:
        # A concurrent first sign-in of the same person (or a username taken at the same moment)
        # lost a unique constraint; the second attempt finds the winner's rows.
        return _sign_in(backend, profile=profile, client=client)

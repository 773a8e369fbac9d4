"""The social login service called directly (providers stubbed at their HTTP endpoints): each
rule it enforces, and its one retry after losing a unique race."""

import pytest
import requests

from accounts.auth.services import ClientInfo
from accounts.errors import (
    EmailUnverified,
    InvalidCredentials,
    ProviderUnavailable,
    SocialAuthFailed,
    SocialEmailRequired,
    SocialTokenRejected,
    SocialTokenUnverifiable,
    UnknownProvider,
)
from accounts.models import AuthSession, CustomUser
from accounts.social import pipeline
from accounts.social.services import social_login, social_provider_check
from accounts.tests.factories import UserFactory
from accounts.tests.social.stubs import (
    CODE_BODY,
    GOOGLE,
    KAKAO,
    KAKAO_TOKENINFO_URL,
    OTHER_GOOGLE_CLIENT,
    PROVIDER_ACCESS_TOKEN,
    PROVIDERS,
    db_counts,
    google_profile,
    kakao_profile,
    sign_in,
    stub_code_flow,
    stub_tokeninfo,
)

CLIENT = ClientInfo(user_agent="pytest")


@pytest.mark.parametrize(
    "arguments",
    [{}, {"code": "4/0AQlEd8x"}, {"code": "4/0AQlEd8x", "access_token": PROVIDER_ACCESS_TOKEN}],
)
def test_social_login_needs_a_code_with_redirect_uri_or_an_access_token(arguments):
    with pytest.raises(ValueError, match="access_token"):
        social_login(provider="google", client=ClientInfo(), **arguments)


@pytest.mark.django_db
@PROVIDERS
def test_a_first_code_sign_in_makes_an_account_and_a_session(http, provider):
    stub_code_flow(http, provider)

    user, pair, created = social_login(provider=provider.path, client=CLIENT, **CODE_BODY)

    assert created is True
    assert user.email == provider.email
    assert pair.access and pair.refresh
    assert AuthSession.objects.get().user == user
    assert db_counts() == (1, 1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["facebook", "", "google-oauth2"])
def test_an_unsupported_provider_is_unknown(http, provider):
    with pytest.raises(UnknownProvider):
        social_provider_check(provider=provider)
    with pytest.raises(UnknownProvider):
        social_login(provider=provider, client=CLIENT, **CODE_BODY)
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
def test_a_provider_without_a_client_id_is_unknown(http, settings):
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = ""

    with pytest.raises(UnknownProvider):
        social_provider_check(provider="google")


@pytest.mark.django_db
def test_a_google_token_of_another_client_is_rejected_before_the_profile_is_fetched(http):
    stub_tokeninfo(http, aud=OTHER_GOOGLE_CLIENT)

    with pytest.raises(SocialTokenRejected):
        social_login(provider="google", client=CLIENT, access_token=PROVIDER_ACCESS_TOKEN)
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
def test_a_kakao_token_of_another_app_is_rejected(http):
    http.get(KAKAO_TOKENINFO_URL, json={"id": int(KAKAO.uid), "app_id": 7654321})

    with pytest.raises(SocialTokenRejected):
        social_login(provider="kakao", client=CLIENT, access_token=PROVIDER_ACCESS_TOKEN)


@pytest.mark.django_db
def test_a_kakao_token_cannot_be_verified_without_an_app_id(http, settings):
    settings.SOCIAL_AUTH_KAKAO_APP_ID = ""

    with pytest.raises(SocialTokenUnverifiable) as refused:
        social_login(provider="kakao", client=CLIENT, access_token=PROVIDER_ACCESS_TOKEN)
    assert refused.value.status == 400


@pytest.mark.django_db
def test_a_refused_code_is_a_failed_sign_in(http):
    http.post(GOOGLE.token_url, status=400, json={"error": "invalid_grant"})

    with pytest.raises(SocialAuthFailed) as refused:
        social_login(provider="google", client=CLIENT, **CODE_BODY)
    assert refused.value.status == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "reply",
    [{"status": 503, "body": "Service Unavailable"}, {"body": requests.ConnectionError("down")}],
    ids=["503", "unreachable"],
)
def test_a_provider_that_is_down_is_unavailable(http, reply):
    http.post(KAKAO.token_url, **reply)

    with pytest.raises(ProviderUnavailable) as refused:
        social_login(provider="kakao", client=CLIENT, **CODE_BODY)
    assert refused.value.status == 502


@pytest.mark.django_db
def test_a_profile_that_is_not_an_object_is_a_failed_sign_in(http):
    stub_code_flow(http, KAKAO, ["not", "an", "object"])

    with pytest.raises(SocialAuthFailed):
        social_login(provider="kakao", client=CLIENT, **CODE_BODY)


@pytest.mark.django_db
def test_an_unverified_email_of_an_existing_account_is_not_linked(http):
    UserFactory(email="shared@example.com")
    stub_code_flow(http, KAKAO, kakao_profile(email="shared@example.com", verified=False))

    with pytest.raises(EmailUnverified) as refused:
        social_login(provider="kakao", client=CLIENT, **CODE_BODY)
    assert refused.value.status == 409
    assert db_counts() == (1, 0, 0)


@pytest.mark.django_db
def test_no_account_is_made_on_an_unverified_email(http):
    stub_code_flow(http, KAKAO, kakao_profile(email="fresh@example.com", verified=False))

    with pytest.raises(EmailUnverified) as refused:
        social_login(provider="kakao", client=CLIENT, **CODE_BODY)
    assert str(refused.value.message).startswith("The provider has not verified your email")
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
def test_a_profile_without_an_email_makes_no_account(http):
    stub_code_flow(http, KAKAO, kakao_profile(email=None))

    with pytest.raises(SocialEmailRequired) as refused:
        social_login(provider="kakao", client=CLIENT, **CODE_BODY)
    assert refused.value.status == 400
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
def test_a_deactivated_account_is_refused_like_a_bad_password(http):
    UserFactory(email=GOOGLE.email, is_active=False)
    stub_code_flow(http, GOOGLE, google_profile())

    with pytest.raises(InvalidCredentials):
        social_login(provider="google", client=CLIENT, **CODE_BODY)
    assert not AuthSession.objects.exists()
    assert not CustomUser.objects.get().social_auth.exists()


@pytest.mark.django_db
def test_sign_in_retries_once_after_losing_a_unique_race(api_client, http, monkeypatch):
    UserFactory(username="jane.doe")
    real_username_generate = pipeline.username_generate
    calls = []

    def stale_then_real(**kwargs):
        calls.append(kwargs)
        # The first answer was free when checked but taken by the time of the insert.
        return "JANE.DOE" if len(calls) == 1 else real_username_generate(**kwargs)

    monkeypatch.setattr(pipeline, "username_generate", stale_then_real)
    stub_code_flow(http, GOOGLE)

    response = sign_in(api_client, GOOGLE, CODE_BODY)

    assert response.status_code == 200, response.content
    assert len(calls) == 2
    assert response.json()["user"]["username"].lower() != "jane.doe"
    assert db_counts() == (2, 1, 1)

"""Google and Kakao stubbed only at their HTTP endpoints: profiles, token replies, and the calls
a social sign-in test makes."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from responses import matchers
from social_django.models import UserSocialAuth

from accounts.models import AuthSession, CustomUser

# The endpoints social-core 7.0.0 calls (GoogleOAuth2 still posts to the accounts.google.com
# token URL), plus the token-introspection endpoints accounts.social.providers calls itself.
GOOGLE_TOKEN_URL = "https://accounts.google.com/o/oauth2/token"
GOOGLE_USERINFO_URL = "https://www.googleapis.com/oauth2/v3/userinfo"
GOOGLE_TOKENINFO_URL = "https://oauth2.googleapis.com/tokeninfo"
KAKAO_TOKEN_URL = "https://kauth.kakao.com/oauth/token"
KAKAO_USER_URL = "https://kapi.kakao.com/v2/user/me"
KAKAO_TOKENINFO_URL = "https://kapi.kakao.com/v1/user/access_token_info"

PROVIDER_ACCESS_TOKEN = "ya29.a0AfB_byC-provider-access-token"
PROVIDER_REFRESH_TOKEN = "1//0gLq-provider-refresh-token"
REDIRECT_URI = "https://app.example.com/oauth/callback"
CODE_BODY = {"code": "4/0AQlEd8x-authorization-code", "redirect_uri": REDIRECT_URI}
TOKEN_BODY = {"access_token": PROVIDER_ACCESS_TOKEN}
CODE_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
OTHER_GOOGLE_CLIENT = "987654321-other-app.apps.googleusercontent.com"
USER_FIELDS = {"id", "email", "username", "name", "role", "part", "team", "date_joined"}


def google_profile(*, email: str = "jane.doe@gmail.com", verified: bool = True) -> dict:
    return {
        "sub": "110169484474386276334",
        "name": "Jane Doe",
        "given_name": "Jane",
        "family_name": "Doe",
        "picture": "https://lh3.googleusercontent.com/a/ACg8ocJ-example=s96-c",
        "email": email,
        "email_verified": verified,
    }


def kakao_profile(
    *, email: str | None = "minsu.kim@kakao.com", verified: bool = True, valid: bool = True
) -> dict:
    account = {
        "profile_nickname_needs_agreement": False,
        "profile": {"nickname": "김민수", "is_default_nickname": False},
        "has_email": email is not None,
        "email_needs_agreement": email is None,
    }
    if email is not None:
        account.update(is_email_valid=valid, is_email_verified=verified, email=email)
    return {
        "id": 3141592653,
        "connected_at": "2024-03-02T05:39:12Z",
        "properties": {"nickname": "김민수"},
        "kakao_account": account,
    }


@dataclass(frozen=True)
class Provider:
    path: str  # the {provider} of the URL
    backend: str  # UserSocialAuth.provider
    uid: str
    email: str
    token_url: str
    profile_url: str
    profile: Callable[..., dict]
    token_response: dict


GOOGLE = Provider(
    path="google",
    backend="google-oauth2",
    uid="110169484474386276334",
    email="jane.doe@gmail.com",
    token_url=GOOGLE_TOKEN_URL,
    profile_url=GOOGLE_USERINFO_URL,
    profile=google_profile,
    token_response={
        "access_token": PROVIDER_ACCESS_TOKEN,
        "expires_in": 3599,
        "refresh_token": PROVIDER_REFRESH_TOKEN,
        "scope": "openid https://www.googleapis.com/auth/userinfo.email "
        "https://www.googleapis.com/auth/userinfo.profile",
        "token_type": "Bearer",
        "id_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    },
)
KAKAO = Provider(
    path="kakao",
    backend="kakao",
    uid="3141592653",
    email="minsu.kim@kakao.com",
    token_url=KAKAO_TOKEN_URL,
    profile_url=KAKAO_USER_URL,
    profile=kakao_profile,
    token_response={
        "token_type": "bearer",
        "access_token": PROVIDER_ACCESS_TOKEN,
        "expires_in": 21599,
        "refresh_token": PROVIDER_REFRESH_TOKEN,
        "refresh_token_expires_in": 5183999,
        "scope": "account_email profile_nickname",
    },
)
PROVIDERS = pytest.mark.parametrize("provider", [GOOGLE, KAKAO], ids=lambda p: p.path)


def stub_profile(http, provider: Provider, profile: dict | None = None):
    return http.get(
        provider.profile_url,
        json=profile if profile is not None else provider.profile(),
        match=[matchers.header_matcher({"Authorization": f"Bearer {PROVIDER_ACCESS_TOKEN}"})],
    )


def stub_code_flow(http, provider: Provider, profile: dict | None = None):
    token = http.post(provider.token_url, json=provider.token_response)
    return token, stub_profile(http, provider, profile)


def stub_tokeninfo(http, *, aud: str, azp: str | None = None):
    return http.get(
        GOOGLE_TOKENINFO_URL,
        json={
            "azp": azp or aud,
            "aud": aud,
            "sub": GOOGLE.uid,
            "scope": GOOGLE.token_response["scope"],
            "exp": "1893456000",
            "expires_in": "3599",
            "email": "jane.doe@gmail.com",
            "email_verified": "true",
            "access_type": "online",
        },
        match=[matchers.query_param_matcher({"access_token": PROVIDER_ACCESS_TOKEN})],
    )


def stub_token_flow(http, provider: Provider, *, settings):
    if provider is GOOGLE:
        stub_tokeninfo(http, aud=settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY)
    else:
        app_id = int(settings.SOCIAL_AUTH_KAKAO_APP_ID)
        http.get(KAKAO_TOKENINFO_URL, json={"id": int(KAKAO.uid), "app_id": app_id})
    return stub_profile(http, provider)


def sign_in(api_client, provider: Provider | str, body: dict, **extra):
    path = provider if isinstance(provider, str) else provider.path
    return api_client.post(f"/api/auth/social/{path}/", body, format="json", **extra)


def db_counts() -> tuple[int, int, int]:
    return CustomUser.objects.count(), UserSocialAuth.objects.count(), AuthSession.objects.count()


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]

"""POST /api/auth/social/{provider}/: Google and Kakao stubbed only at their HTTP endpoints."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs

import pytest
import requests
import responses
from responses import matchers
from social_django.models import UserSocialAuth
from social_django.utils import load_strategy

from accounts import social
from accounts.models import AuthSession, CustomUser, Role, username_validator
from accounts.services import ClientInfo
from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.exceptions import ApplicationError

# The endpoints social-core 7.0.0 calls (GoogleOAuth2 still posts to the accounts.google.com
# token URL), plus the token-introspection endpoints accounts.social calls itself.
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


@pytest.fixture
def http():
    """Every provider call must be stubbed, and every stub must be called."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


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


# --- Success --------------------------------------------------------------------------------------


@pytest.mark.django_db
@PROVIDERS
def test_code_sign_in_makes_a_student_account_linked_to_the_identity(
    api_client, http, settings, provider
):
    token_stub, _profile = stub_code_flow(http, provider)

    response = sign_in(api_client, provider, CODE_BODY, HTTP_USER_AGENT="phone/1.0")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh", "created"}
    assert body["created"] is True
    assert USER_FIELDS <= set(body["user"])
    assert body["user"]["role"] == "student"
    user = CustomUser.objects.get(pk=body["user"]["id"])
    assert user.email == provider.email
    assert user.role == Role.STUDENT
    assert not user.is_staff
    assert not user.has_usable_password()
    assert user.name == ("Jane Doe" if provider is GOOGLE else "김민수")
    username_validator(user.username)
    social_link = UserSocialAuth.objects.get(provider=provider.backend, uid=provider.uid)
    assert social_link.user == user
    session = AuthSession.objects.get(user=user)
    assert session.user_agent == "phone/1.0"
    sent = parse_qs(token_stub.calls[0].request.body)
    key = (
        settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY
        if provider is GOOGLE
        else settings.SOCIAL_AUTH_KAKAO_KEY
    )
    assert sent["grant_type"] == ["authorization_code"]
    assert sent["code"] == [CODE_BODY["code"]]
    assert sent["redirect_uri"] == [REDIRECT_URI]
    assert sent["client_id"] == [key]
    assert "client_secret" in sent
    assert "code_verifier" not in sent


@pytest.mark.django_db
@PROVIDERS
def test_new_account_email_is_stored_lowercased_like_register(api_client, http, provider):
    stub_code_flow(http, provider, provider.profile(email="Mixed.Case@Example.COM"))

    response = sign_in(api_client, provider, CODE_BODY)

    assert response.status_code == 200
    assert response.json()["user"]["email"] == "mixed.case@example.com"
    assert response.json()["user"]["username"] == "mixed.case"
    assert CustomUser.objects.get().email == "mixed.case@example.com"


@pytest.mark.django_db
@PROVIDERS
def test_pkce_code_verifier_is_forwarded_to_the_token_endpoint(api_client, http, provider):
    token_stub, _profile = stub_code_flow(http, provider)

    response = sign_in(api_client, provider, {**CODE_BODY, "code_verifier": CODE_VERIFIER})

    assert response.status_code == 200, response.content
    assert parse_qs(token_stub.calls[0].request.body)["code_verifier"] == [CODE_VERIFIER]
    assert CustomUser.objects.filter(pk=response.json()["user"]["id"]).exists()


@pytest.mark.django_db
@PROVIDERS
def test_access_token_sign_in_makes_an_account(api_client, http, settings, provider):
    stub_token_flow(http, provider, settings=settings)

    response = sign_in(api_client, provider, TOKEN_BODY)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh", "created"}
    assert body["created"] is True
    social_link = UserSocialAuth.objects.select_related("user").get(provider=provider.backend)
    assert social_link.uid == provider.uid
    assert social_link.user.pk == body["user"]["id"]
    assert AuthSession.objects.filter(user=social_link.user).count() == 1


@pytest.mark.django_db
@PROVIDERS
def test_second_sign_in_of_the_same_identity_reuses_the_account(api_client, http, provider):
    stub_code_flow(http, provider)

    first = sign_in(api_client, provider, CODE_BODY)
    second = sign_in(api_client, provider, CODE_BODY)

    assert first.status_code == second.status_code == 200
    assert first.json()["created"] is True
    assert second.json()["created"] is False
    assert second.json()["user"]["id"] == first.json()["user"]["id"]
    assert db_counts() == (1, 1, 2)


@pytest.mark.django_db
@PROVIDERS
def test_returned_access_token_works_on_users_me(api_client, http, provider):
    stub_code_flow(http, provider)
    body = sign_in(api_client, provider, CODE_BODY).json()

    me = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")

    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]
    assert me.json()["email"] == body["user"]["email"]


@pytest.mark.django_db
@PROVIDERS
def test_provider_tokens_are_not_stored(api_client, http, provider):
    stub_code_flow(http, provider)

    assert sign_in(api_client, provider, CODE_BODY).status_code == 200

    stored = json.dumps(UserSocialAuth.objects.get(provider=provider.backend).extra_data)
    assert PROVIDER_ACCESS_TOKEN not in stored
    assert PROVIDER_REFRESH_TOKEN not in stored


@pytest.mark.django_db
def test_cookie_mode_puts_the_refresh_token_in_the_cookie(api_client, http, settings):
    settings.AUTH_REFRESH_COOKIE = True
    stub_code_flow(http, GOOGLE)

    response = sign_in(api_client, GOOGLE, CODE_BODY)

    assert response.status_code == 200
    assert set(response.json()) == {"user", "access", "created"}
    cookie = response.cookies[settings.AUTH_REFRESH_COOKIE_NAME]
    assert cookie.value
    assert cookie["httponly"] is True
    assert cookie["path"] == "/api/auth/"
    assert AuthSession.objects.count() == 1


# --- Linking to an existing account -------------------------------------------------------------


@pytest.mark.django_db
@PROVIDERS
def test_verified_email_links_the_existing_account_and_ends_its_password(
    api_client, http, provider
):
    """Whoever set that password never proved owning the email: a pre-hijacked account must
    not keep its squatter's password or sessions once the real owner signs in."""
    existing = UserFactory(email="shared@example.com", username="shared", role=Role.TUTOR)
    squatter = client_for(existing)
    stub_code_flow(http, provider, provider.profile(email="Shared@Example.com"))

    response = sign_in(api_client, provider, CODE_BODY)

    assert response.status_code == 200, response.content
    assert response.json()["created"] is False
    assert response.json()["user"]["id"] == existing.pk
    assert UserSocialAuth.objects.get(provider=provider.backend).user_id == existing.pk
    existing.refresh_from_db()
    assert not existing.has_usable_password()
    assert existing.role == Role.TUTOR
    assert squatter.get("/api/users/me/").status_code == 401
    assert AuthSession.objects.filter(user=existing, revoked_at__isnull=True).count() == 1
    assert CustomUser.objects.count() == 1


@pytest.mark.django_db
@PROVIDERS
def test_a_verified_email_never_links_a_look_alike_squatter(api_client, http, provider):
    """`ma\u0131l.com` (dotless i) is another domain, though PostgreSQL's UPPER() says otherwise:
    its account is not the verified owner's."""
    squatter = UserFactory(email="owner@ma\u0131l.com", username="squat")
    stub_code_flow(http, provider, provider.profile(email="owner@mail.com"))

    response = sign_in(api_client, provider, CODE_BODY)

    assert response.status_code == 200, response.content
    assert response.json()["created"] is True
    assert response.json()["user"]["id"] != squatter.pk
    assert response.json()["user"]["email"] == "owner@mail.com"
    squatter.refresh_from_db()
    assert squatter.has_usable_password()
    assert not squatter.social_auth.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("verified", "valid"), [(False, True), (True, False)], ids=["unverified", "invalid"]
)
def test_kakao_unverified_email_of_an_existing_account_is_refused(
    api_client, http, verified, valid
):
    existing = UserFactory(email="shared@example.com")
    stub_code_flow(
        http, KAKAO, kakao_profile(email="shared@example.com", verified=verified, valid=valid)
    )

    response = sign_in(api_client, KAKAO, CODE_BODY)

    assert_error(response, 409, "email_unverified")
    assert db_counts() == (1, 0, 0)
    assert not existing.social_auth.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("has_account", [True, False], ids=["existing-account", "no-account"])
def test_google_unverified_email_is_refused_by_the_provider_check(api_client, http, has_account):
    if has_account:
        UserFactory(email="shared@example.com")
    before = db_counts()
    stub_code_flow(http, GOOGLE, google_profile(email="shared@example.com", verified=False))

    response = sign_in(api_client, GOOGLE, CODE_BODY)

    assert_error(response, 401, "social_auth_failed")
    assert db_counts() == before


@pytest.mark.django_db
def test_kakao_unverified_email_without_an_account_is_refused(api_client, http):
    """An account made on an unverified email could later be linked to the email's real owner."""
    stub_code_flow(http, KAKAO, kakao_profile(email="fresh@example.com", verified=False))

    response = sign_in(api_client, KAKAO, CODE_BODY)

    assert_error(response, 409, "email_unverified")
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
@PROVIDERS
def test_provider_data_never_overwrites_protected_fields(api_client, http, provider):
    stub_code_flow(http, provider)
    first = sign_in(api_client, provider, CODE_BODY).json()
    CustomUser.objects.filter(pk=first["user"]["id"]).update(
        role=Role.ADMIN, is_staff=True, username="chosen", name="Chosen Name"
    )
    http.replace(
        responses.GET,
        provider.profile_url,
        json=provider.profile(email="someone.else@example.com"),
    )

    response = sign_in(api_client, provider, CODE_BODY)

    assert response.status_code == 200
    assert response.json()["created"] is False
    user = CustomUser.objects.get(pk=first["user"]["id"])
    assert user.email == first["user"]["email"]
    assert (user.username, user.name, user.role, user.is_staff) == (
        "chosen",
        "Chosen Name",
        Role.ADMIN,
        True,
    )
    assert CustomUser.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("linked", [True, False], ids=["already-linked", "linked-by-email"])
def test_inactive_account_is_refused_like_login(api_client, http, linked):
    stub_code_flow(http, GOOGLE)
    if linked:
        user_id = sign_in(api_client, GOOGLE, CODE_BODY).json()["user"]["id"]
    else:
        user_id = UserFactory(email=GOOGLE.email).pk
    CustomUser.objects.filter(pk=user_id).update(is_active=False)
    before = db_counts()

    response = sign_in(api_client, GOOGLE, CODE_BODY)

    assert_error(response, 401, "invalid_credentials")
    assert db_counts() == before


# --- Refusals -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("aud", "azp"),
    [("ours", "ours"), (OTHER_GOOGLE_CLIENT, "ours"), ("ours", OTHER_GOOGLE_CLIENT)],
)
def test_google_token_issued_to_this_client_is_accepted(api_client, http, settings, aud, azp):
    ours = settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY
    stub_tokeninfo(http, aud=ours if aud == "ours" else aud, azp=ours if azp == "ours" else azp)
    stub_profile(http, GOOGLE)

    response = sign_in(api_client, GOOGLE, TOKEN_BODY)

    assert response.status_code == 200
    assert db_counts() == (1, 1, 1)


@pytest.mark.django_db
def test_google_token_issued_to_another_client_is_rejected(api_client, http):
    # No userinfo stub: the profile must not even be fetched.
    stub_tokeninfo(http, aud=OTHER_GOOGLE_CLIENT)

    response = sign_in(api_client, GOOGLE, TOKEN_BODY)

    assert_error(response, 401, "social_token_rejected")
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
def test_kakao_token_of_another_app_is_rejected(api_client, http, settings):
    info = {"id": int(KAKAO.uid), "expires_in": 7199, "app_id": 7654321}
    http.get(KAKAO_TOKENINFO_URL, json=info)

    rejected = sign_in(api_client, KAKAO, TOKEN_BODY)

    assert_error(rejected, 401, "social_token_rejected")
    assert db_counts() == (0, 0, 0)

    http.replace(responses.GET, KAKAO_TOKENINFO_URL, json={**info, "app_id": 1234567})
    stub_profile(http, KAKAO)
    assert sign_in(api_client, KAKAO, TOKEN_BODY).status_code == 200


@pytest.mark.django_db
def test_a_kakao_token_is_never_taken_unchecked_without_an_app_id(api_client, http, settings):
    """No app id, nothing to compare the token's app with: refused before any profile fetch."""
    settings.SOCIAL_AUTH_KAKAO_APP_ID = ""

    response = sign_in(api_client, KAKAO, TOKEN_BODY)

    assert_error(response, 400, "social_token_unverifiable")
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("body", [CODE_BODY, {}], ids=["valid-body", "empty-body"])
def test_unknown_provider_is_404(api_client, http, body):
    response = sign_in(api_client, "facebook", body)

    assert_error(response, 404, "unknown_provider")
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
def test_provider_without_a_client_id_is_404(api_client, http, settings):
    settings.SOCIAL_AUTH_KAKAO_KEY = ""

    assert_error(sign_in(api_client, KAKAO, CODE_BODY), 404, "unknown_provider")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "email", [None, "not-an-email", "x" * 250 + "@kakao.com"], ids=["none", "invalid", "too-long"]
)
def test_kakao_account_without_a_usable_email_is_refused(api_client, http, email):
    stub_code_flow(http, KAKAO, kakao_profile(email=email))

    response = sign_in(api_client, KAKAO, CODE_BODY)

    assert_error(response, 400, "social_email_required")
    assert db_counts() == (0, 0, 0)


PROVIDER_FAILURES = [
    pytest.param(
        GOOGLE,
        "token",
        {"status": 400, "json": {"error": "invalid_grant", "error_description": "Bad Request"}},
        401,
        "social_auth_failed",
        id="google-bad-code",
    ),
    pytest.param(
        KAKAO,
        "token",
        {
            "status": 400,
            "json": {
                "error": "invalid_grant",
                "error_description": "authorization code not found for code=4/0AQlEd8x",
                "error_code": "KOE320",
            },
        },
        401,
        "social_auth_failed",
        id="kakao-bad-code",
    ),
    pytest.param(
        GOOGLE,
        "profile",
        {
            "status": 401,
            "json": {"error": "invalid_request", "error_description": "Invalid Credentials"},
        },
        401,
        "social_auth_failed",
        id="google-expired-token",
    ),
    pytest.param(
        KAKAO,
        "profile",
        {"status": 401, "json": {"msg": "this access token does not exist", "code": -401}},
        401,
        "social_auth_failed",
        id="kakao-expired-token",
    ),
    pytest.param(
        GOOGLE,
        "token",
        {"status": 503, "body": "Service Unavailable"},
        502,
        "provider_unavailable",
        id="google-token-503",
    ),
    pytest.param(
        KAKAO,
        "profile",
        {"status": 500, "json": {"msg": "internal server error", "code": -1}},
        502,
        "provider_unavailable",
        id="kakao-profile-500",
    ),
    pytest.param(
        GOOGLE,
        "profile",
        {"body": requests.exceptions.ReadTimeout("read timed out")},
        502,
        "provider_unavailable",
        id="google-timeout",
    ),
    pytest.param(
        KAKAO,
        "token",
        {"body": requests.exceptions.ConnectionError("connection refused")},
        502,
        "provider_unavailable",
        id="kakao-unreachable",
    ),
    pytest.param(
        GOOGLE,
        "profile",
        {"body": "<html>not json</html>", "content_type": "text/html"},
        401,
        "social_auth_failed",
        id="google-malformed-profile",
    ),
    pytest.param(
        KAKAO,
        "profile",
        {"json": ["not", "an", "object"]},
        401,
        "social_auth_failed",
        id="kakao-profile-not-an-object",
    ),
    pytest.param(
        GOOGLE,
        "tokeninfo",
        {"status": 400, "json": {"error": "invalid_token", "error_description": "Invalid Value"}},
        401,
        "social_auth_failed",
        id="google-tokeninfo-expired",
    ),
    pytest.param(
        GOOGLE,
        "tokeninfo",
        {"status": 502, "body": "Bad Gateway"},
        502,
        "provider_unavailable",
        id="google-tokeninfo-502",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("provider", "stage", "reply", "status", "code"), PROVIDER_FAILURES)
def test_provider_failures_become_envelopes_and_write_nothing(
    api_client, http, provider, stage, reply, status, code
):
    body = CODE_BODY
    if stage == "token":
        http.post(provider.token_url, **reply)
    elif stage == "profile":
        http.post(provider.token_url, json=provider.token_response)
        http.get(provider.profile_url, **reply)
    else:
        http.get(GOOGLE_TOKENINFO_URL, **reply)
        body = TOKEN_BODY

    response = sign_in(api_client, provider, body)

    assert_error(response, status, code)
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"code": "4/0AQlEd8x"}, "redirect_uri"),
        ({"redirect_uri": REDIRECT_URI}, "non_field_errors"),
        ({**CODE_BODY, **TOKEN_BODY}, "non_field_errors"),
        ({**TOKEN_BODY, "code_verifier": CODE_VERIFIER}, "non_field_errors"),
        ({**CODE_BODY, "code_verifier": "too-short"}, "code_verifier"),
        ({"access_token": ""}, "access_token"),
    ],
)
def test_missing_or_mixed_fields_are_a_validation_error(api_client, http, body, field):
    # `http` has no stubs: reaching a provider would fail the test with a 502.
    response = sign_in(api_client, GOOGLE, body)

    assert_error(response, 400, "validation_error")
    assert field in response.json()["error"]["fields"]
    assert db_counts() == (0, 0, 0)


@pytest.mark.django_db
def test_social_sign_in_is_throttled_per_ip(api_client, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "social_ip": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    for _ in range(2):
        assert sign_in(api_client, GOOGLE, {}).status_code == 400
    response = sign_in(api_client, GOOGLE, {})

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert sign_in(api_client, GOOGLE, {}, REMOTE_ADDR="10.9.8.7").status_code == 400


# --- Service and username details ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("backend_name", "response"),
    [
        ("google-oauth2", google_profile(email="shared@example.com", verified=False)),
        ("google-oauth2", {**google_profile(email="shared@example.com"), "email_verified": "true"}),
        ("kakao", kakao_profile(email="shared@example.com", verified=False)),
    ],
    ids=["google-false", "google-string-true", "kakao-false"],
)
def test_pipeline_step_links_only_an_email_the_provider_verified(backend_name, response):
    existing = UserFactory(email="shared@example.com")
    backend = load_strategy().get_backend(backend_name)
    details = {"email": "shared@example.com"}

    with pytest.raises(ApplicationError) as refused:
        social.associate_by_verified_email(backend=backend, details=details, response=response)
    assert refused.value.code == "email_unverified"

    verified = google_profile() if backend_name == "google-oauth2" else kakao_profile()
    linked = social.associate_by_verified_email(backend=backend, details=details, response=verified)
    assert linked == {"user": existing, "is_new": False}


@pytest.mark.parametrize(
    "arguments",
    [{}, {"code": "4/0AQlEd8x"}, {"code": "4/0AQlEd8x", "access_token": PROVIDER_ACCESS_TOKEN}],
)
def test_social_login_needs_a_code_with_redirect_uri_or_an_access_token(arguments):
    with pytest.raises(ValueError, match="access_token"):
        social.social_login(provider="google", client=ClientInfo(), **arguments)


@pytest.mark.django_db
def test_sign_in_retries_once_after_losing_a_unique_race(api_client, http, monkeypatch):
    UserFactory(username="jane.doe")
    real_username_generate = social.username_generate
    calls = []

    def stale_then_real(**kwargs):
        calls.append(kwargs)
        # The first answer was free when checked but taken by the time of the insert.
        return "JANE.DOE" if len(calls) == 1 else real_username_generate(**kwargs)

    monkeypatch.setattr(social, "username_generate", stale_then_real)
    stub_code_flow(http, GOOGLE)

    response = sign_in(api_client, GOOGLE, CODE_BODY)

    assert response.status_code == 200, response.content
    assert len(calls) == 2
    assert response.json()["user"]["username"].lower() != "jane.doe"
    assert db_counts() == (2, 1, 1)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "nickname", "expected"),
    [
        ("jane.doe@gmail.com", "", "jane.doe"),
        ("jane+promo@gmail.com", "", "janepromo"),
        ("a@kakao.com", "김 민수", "김_민수"),
        ("a@kakao.com", "", "user"),
        ("x" * 40 + "@example.com", "", "x" * 30),
    ],
)
def test_username_comes_from_the_email_or_the_nickname(email, nickname, expected):
    assert social.username_generate(email=email, nickname=nickname) == expected


@pytest.mark.django_db
def test_generated_username_avoids_taken_ones_case_insensitively():
    UserFactory(username="Jane.Doe")
    UserFactory(username="x" * 30)

    short = social.username_generate(email="jane.doe@gmail.com")
    long = social.username_generate(email="x" * 40 + "@example.com")

    assert short.lower() != "jane.doe"
    assert short.startswith("jane.doe_")
    assert long != "x" * 30
    assert len(long) <= 30
    for username in (short, long):
        username_validator(username)
        assert not CustomUser.objects.filter(username__iexact=username).exists()


def test_schema_documents_the_operation():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"]["/api/auth/social/{provider}/"]["post"]
    assert operation["operationId"] == "auth_social"
    (parameter,) = [p for p in operation["parameters"] if p["name"] == "provider"]
    assert parameter["schema"]["enum"] == ["google", "kakao"]
    assert {"200", "400", "401", "404", "409", "429", "502"} <= set(operation["responses"])
    output = schema["components"]["schemas"]["SocialLoginOutput"]
    assert {"user", "access", "refresh", "created"} <= set(output["properties"])

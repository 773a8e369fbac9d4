"""POST /api/auth/social/{provider}/ refuses: tokens of other applications, unknown or unset
providers, missing emails, provider failures and bad bodies, each in the envelope, writing
nothing."""

import pytest
import requests
import responses

from accounts.tests.social.stubs import (
    CODE_BODY,
    CODE_VERIFIER,
    GOOGLE,
    GOOGLE_TOKENINFO_URL,
    KAKAO,
    KAKAO_TOKENINFO_URL,
    OTHER_GOOGLE_CLIENT,
    REDIRECT_URI,
    TOKEN_BODY,
    assert_error,
    db_counts,
    kakao_profile,
    sign_in,
    stub_code_flow,
    stub_profile,
    stub_tokeninfo,
)
from core.testing import throttle_rates

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
    throttle_rates(settings, social_ip="2/min")

    for _ in range(2):
        assert sign_in(api_client, GOOGLE, {}).status_code == 400
    response = sign_in(api_client, GOOGLE, {})

    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert sign_in(api_client, GOOGLE, {}, REMOTE_ADDR="10.9.8.7").status_code == 400


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

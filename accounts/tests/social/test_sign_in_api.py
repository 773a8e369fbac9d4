"""POST /api/auth/social/{provider}/ signs in: a new student account, the same account again, or
the local account with the email the provider verified (and only that)."""

import json
from urllib.parse import parse_qs

import pytest
import responses
from social_django.models import UserSocialAuth

from accounts.models import AuthSession, CustomUser, Role, username_validator
from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from accounts.tests.social.stubs import (
    CODE_BODY,
    CODE_VERIFIER,
    GOOGLE,
    KAKAO,
    PROVIDER_ACCESS_TOKEN,
    PROVIDER_REFRESH_TOKEN,
    PROVIDERS,
    REDIRECT_URI,
    TOKEN_BODY,
    USER_FIELDS,
    assert_error,
    db_counts,
    google_profile,
    kakao_profile,
    sign_in,
    stub_code_flow,
    stub_token_flow,
)

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

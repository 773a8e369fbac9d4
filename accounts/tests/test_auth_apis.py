"""Sign-up, availability, login, token verification, logout and sessions: the happy paths and
their domain errors (the accounts table of API.md; passwords and users in their own modules)."""

import pytest

from accounts.models import AuthSession, CustomUser, RevokeReason
from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

USER_FIELDS = {
    "id",
    "email",
    "username",
    "name",
    "role",
    "part",
    "team",
    "introduction",
    "phone",
    "is_staff",
    "date_joined",
}
NEW_PASSWORD = "another-long-passphrase-42"


def register_body(**overrides) -> dict:
    body = {
        "email": "new.person@example.com",
        "username": "new_person",
        "password": "a-long-enough-passphrase",
        "password_confirm": "a-long-enough-passphrase",
        "name": "New Person",
    }
    return {**body, **overrides}


@pytest.mark.django_db
class TestRegister:
    def test_register_creates_a_student_and_returns_a_working_session(self, api_client):
        response = api_client.post("/api/auth/register/", register_body())

        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"user", "access", "refresh"}
        assert USER_FIELDS <= set(body["user"])
        assert body["user"]["role"] == "student"
        assert (body["user"]["part"], body["user"]["team"]) == ("", None)  # staff assign them
        user = CustomUser.objects.get(email="new.person@example.com")
        assert user.check_password("a-long-enough-passphrase")
        assert AuthSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1
        me = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        assert me.json()["email"] == "new.person@example.com"

    def test_register_lowercases_the_email(self, api_client):
        response = api_client.post("/api/auth/register/", register_body(email="MiXeD@Example.COM"))
        assert response.status_code == 201
        assert response.json()["user"]["email"] == "mixed@example.com"

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"password_confirm": "something-else-entirely"}, "password_confirm"),
            ({"password": "short", "password_confirm": "short"}, "password"),
            ({"password": "12345678901", "password_confirm": "12345678901"}, "password"),
            ({"password": "password123", "password_confirm": "password123"}, "password"),
            ({"email": "not-an-email"}, "email"),
            ({"username": "has space"}, "username"),
            ({"username": "at@sign"}, "username"),
            ({"part": "astronaut"}, "part"),
            ({"part": "backend"}, "part"),  # staff assign parts and teams
            ({"team": 999999}, "team"),
            ({"team": None}, "team"),
        ],
    )
    def test_register_rejects_bad_fields_and_writes_nothing(self, api_client, overrides, field):
        response = api_client.post("/api/auth/register/", register_body(**overrides))
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in error["fields"]
        assert not CustomUser.objects.exists()

    @pytest.mark.parametrize("field", ["email", "username"])
    def test_register_refuses_a_taken_email_or_username_case_insensitively(self, api_client, field):
        UserFactory(email="taken@example.com", username="taken")
        value = {"email": "TAKEN@example.com", "username": "TAKEN"}[field]
        response = api_client.post("/api/auth/register/", register_body(**{field: value}))
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        assert CustomUser.objects.count() == 1

    def test_register_accepts_a_64_character_passphrase(self, api_client):
        password = "correct horse battery staple " * 2 + "abcdef"
        assert len(password) >= 64
        body = register_body(password=password, password_confirm=password)
        response = api_client.post("/api/auth/register/", body)
        assert response.status_code == 201


@pytest.mark.django_db
class TestAvailability:
    @pytest.mark.parametrize(
        ("query", "field", "available"),
        [
            ({"username": "taken"}, "username", False),
            ({"username": "TAKEN"}, "username", False),
            ({"username": "free"}, "username", True),
            ({"email": "taken@example.com"}, "email", False),
            ({"email": "free@example.com"}, "email", True),
        ],
    )
    def test_availability_answers_for_one_field(self, api_client, query, field, available):
        UserFactory(email="taken@example.com", username="taken")
        response = api_client.get("/api/auth/availability/", query)
        assert response.status_code == 200
        assert response.json() == {
            "field": field,
            "value": query[field],
            "available": available,
        }

    @pytest.mark.parametrize("query", [{}, {"username": "a", "email": "b@example.com"}])
    def test_availability_needs_exactly_one_field(self, api_client, query):
        response = api_client.get("/api/auth/availability/", query)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.django_db
class TestLogin:
    @pytest.mark.parametrize("login", ["email", "username", "upper_email"])
    def test_login_by_email_or_username(self, api_client, user, login):
        value = {
            "email": user.email,
            "username": user.username,
            "upper_email": user.email.upper(),
        }[login]
        response = api_client.post(
            "/api/auth/login/", {"login": value, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"user", "access", "refresh"}
        assert body["user"]["id"] == user.pk
        user.refresh_from_db()
        assert user.last_login is not None

    def test_unknown_user_wrong_password_and_inactive_user_look_identical(self, api_client):
        UserFactory(email="known@example.com")
        UserFactory(email="gone@example.com", is_active=False)
        attempts = [
            {"login": "nobody@example.com", "password": DEFAULT_PASSWORD},
            {"login": "known@example.com", "password": "wrong-password-here"},
            {"login": "gone@example.com", "password": DEFAULT_PASSWORD},
        ]
        responses = [api_client.post("/api/auth/login/", body) for body in attempts]
        assert {r.status_code for r in responses} == {401}
        assert len({r.content for r in responses}) == 1
        assert responses[0].json()["error"]["code"] == "invalid_credentials"
        assert not AuthSession.objects.exists()

    def test_unknown_user_costs_one_password_hash_like_a_wrong_password(
        self, api_client, monkeypatch
    ):
        from django.contrib.auth.hashers import MD5PasswordHasher

        UserFactory(email="known@example.com")
        calls = []
        original = MD5PasswordHasher.verify

        def counting_verify(self, password, encoded):
            calls.append(password)
            return original(self, password, encoded)

        monkeypatch.setattr(MD5PasswordHasher, "verify", counting_verify)
        api_client.post("/api/auth/login/", {"login": "nobody@example.com", "password": "x1"})
        api_client.post("/api/auth/login/", {"login": "known@example.com", "password": "x2"})
        assert calls == ["x1", "x2"]

    def test_login_upgrades_an_old_pbkdf2_hash_to_the_preferred_hasher(self, api_client, settings):
        settings.PASSWORD_HASHERS = [
            "django.contrib.auth.hashers.MD5PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        ]
        from django.contrib.auth.hashers import make_password

        user = UserFactory()
        CustomUser.objects.filter(pk=user.pk).update(
            password=make_password(DEFAULT_PASSWORD, hasher="pbkdf2_sha256")
        )
        response = api_client.post(
            "/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD}
        )
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.password.startswith("md5$")


@pytest.mark.django_db
class TestVerify:
    def test_verify_accepts_live_access_and_refresh_tokens(self, api_client, user):
        pair = client_for(user).token_pair
        for token in (pair.access, pair.refresh):
            response = api_client.post("/api/auth/token/verify/", {"token": token})
            assert response.status_code == 200
            assert response.json() == {}

    def test_verify_refuses_tokens_of_an_ended_session(self, api_client, user):
        pair = client_for(user).token_pair
        api_client.post("/api/auth/logout/", {"refresh": pair.refresh})
        for token in (pair.access, pair.refresh):
            response = api_client.post("/api/auth/token/verify/", {"token": token})
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "token_not_valid"

    def test_verify_refuses_a_consumed_refresh_token(self, api_client, user):
        pair = client_for(user).token_pair
        api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh})
        response = api_client.post("/api/auth/token/verify/", {"token": pair.refresh})
        assert response.status_code == 401


@pytest.mark.django_db
class TestLogoutAndSessions:
    def test_logout_needs_a_refresh_token(self, api_client):
        response = api_client.post("/api/auth/logout/", {})
        assert response.status_code == 400
        assert "refresh" in response.json()["error"]["fields"]

    def test_logout_twice_is_401_the_second_time(self, api_client, user):
        pair = client_for(user).token_pair
        assert api_client.post("/api/auth/logout/", {"refresh": pair.refresh}).status_code == 204
        again = api_client.post("/api/auth/logout/", {"refresh": pair.refresh})
        assert again.status_code == 401
        session = AuthSession.objects.get(user=user)
        assert session.revoke_reason == RevokeReason.LOGOUT

    def test_sessions_list_shows_only_my_live_sessions_and_marks_the_current(self, user):
        client = client_for(user)
        other = client_for(user)
        other.post("/api/auth/logout/", {"refresh": other.token_pair.refresh})
        client_for(UserFactory())  # someone else's session
        client_for(user)

        response = client.get("/api/auth/sessions/")

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 2
        assert {"id", "created_at", "last_used_at", "user_agent", "ip", "current"} <= set(
            body["results"][0]
        )
        assert [s["current"] for s in body["results"]].count(True) == 1

    def test_deleting_someone_elses_session_is_404_and_leaves_it_alive(self, user):
        stranger = UserFactory()
        client_for(stranger)
        stranger_session = AuthSession.objects.get(user=stranger)
        response = client_for(user).delete(f"/api/auth/sessions/{stranger_session.pk}/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
        stranger_session.refresh_from_db()
        assert stranger_session.revoked_at is None

    def test_sessions_need_authentication(self, api_client):
        response = api_client.get("/api/auth/sessions/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"

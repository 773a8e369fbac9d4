"""AUTH_REFRESH_COOKIE=true: the refresh token lives in an HttpOnly cookie, guarded by Origin."""

import pytest

from accounts.models import AuthSession
from accounts.tests.factories import DEFAULT_PASSWORD
from core.testing import assert_error_envelope

ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture
def cookie_mode(settings):
    settings.AUTH_REFRESH_COOKIE = True
    settings.AUTH_REFRESH_COOKIE_SAMESITE = "None"
    settings.AUTH_REFRESH_COOKIE_SECURE = True
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED_ORIGIN]


def login(api_client, user):
    return api_client.post(
        "/api/auth/login/",
        {"login": user.email, "password": DEFAULT_PASSWORD},
        HTTP_ORIGIN=ALLOWED_ORIGIN,
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("cookie_mode")
class TestCookieMode:
    def test_login_puts_the_refresh_token_in_a_secure_httponly_cookie(self, api_client, user):
        response = login(api_client, user)
        assert response.status_code == 200
        assert set(response.json()) == {"user", "access"}
        cookie = response.cookies["refresh_token"]
        assert cookie["httponly"] is True
        assert cookie["secure"] is True
        assert cookie["samesite"] == "None"
        assert cookie["path"] == "/api/auth/"
        assert cookie["expires"]

    def test_register_sets_the_cookie_too(self, api_client):
        response = api_client.post(
            "/api/auth/register/",
            {
                "email": "c@example.com",
                "username": "cookie",
                "password": "cookie-passphrase-1",
                "password_confirm": "cookie-passphrase-1",
            },
        )
        assert response.status_code == 201
        assert "refresh" not in response.json()
        assert response.cookies["refresh_token"].value

    @pytest.mark.parametrize("path", ["/api/auth/token/refresh/", "/api/auth/logout/"])
    def test_no_cookie_at_all_is_401_log_in_again(self, api_client, path):
        response = api_client.post(path, HTTP_ORIGIN=ALLOWED_ORIGIN)
        error = assert_error_envelope(response, 401, "not_authenticated")
        assert error["fields"] == {}
        assert not AuthSession.objects.exists()

    def test_refresh_reads_the_cookie_and_rotates_it(self, api_client, user):
        first = login(api_client, user).cookies["refresh_token"].value
        response = api_client.post("/api/auth/token/refresh/", HTTP_ORIGIN=ALLOWED_ORIGIN)
        assert response.status_code == 200
        assert set(response.json()) == {"access"}
        rotated = response.cookies["refresh_token"].value
        assert rotated and rotated != first

    @pytest.mark.parametrize("origin", [None, "https://evil.example.net", "null"])
    def test_refresh_from_a_foreign_or_missing_origin_is_refused(self, api_client, user, origin):
        login(api_client, user)
        session = AuthSession.objects.get(user=user)
        extra = {"HTTP_ORIGIN": origin} if origin else {}
        response = api_client.post("/api/auth/token/refresh/", **extra)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "origin_not_allowed"
        refreshed = AuthSession.objects.get(pk=session.pk)
        assert refreshed.refresh_jti == session.refresh_jti

    def test_a_refresh_token_in_the_body_is_ignored_in_cookie_mode(self, api_client, user):
        body_token = login(api_client, user).cookies["refresh_token"].value
        api_client.cookies.clear()
        response = api_client.post(
            "/api/auth/token/refresh/", {"refresh": body_token}, HTTP_ORIGIN=ALLOWED_ORIGIN
        )
        assert response.status_code == 401

    def test_logout_reads_the_cookie_ends_the_session_and_clears_it(self, api_client, user):
        access = login(api_client, user).json()["access"]
        response = api_client.post("/api/auth/logout/", HTTP_ORIGIN=ALLOWED_ORIGIN)
        assert response.status_code == 204
        assert response.cookies["refresh_token"].value == ""
        assert AuthSession.objects.get(user=user).revoked_at is not None
        me = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
        assert me.status_code == 401

    def test_logout_from_a_foreign_origin_is_refused(self, api_client, user):
        login(api_client, user)
        response = api_client.post("/api/auth/logout/", HTTP_ORIGIN="https://evil.example.net")
        assert response.status_code == 403
        assert AuthSession.objects.get(user=user).revoked_at is None

    def test_cors_allows_the_frontend_origin_with_credentials(self, api_client):
        response = api_client.options(
            "/api/auth/token/refresh/",
            HTTP_ORIGIN=ALLOWED_ORIGIN,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        )
        assert response["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
        assert response["Access-Control-Allow-Credentials"] == "true"

    def test_cors_gives_a_foreign_origin_no_allow_header(self, api_client):
        response = api_client.options(
            "/api/auth/token/refresh/",
            HTTP_ORIGIN="https://evil.example.net",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        )
        assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_body_mode_sets_no_cookie(api_client, user):
    response = login(api_client, user)
    assert "refresh" in response.json()
    assert "refresh_token" not in response.cookies

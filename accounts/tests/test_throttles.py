"""Credential endpoints are throttled per client IP and per account, before any hashing."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture
def tight_rates(settings):
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    rates.update(
        login_ip="5/min",
        login_account="3/min",
        register_ip="2/min",
        register_account="2/min",
        refresh_ip="3/min",
        refresh_session="2/min",
        password_reset_ip="3/min",
        password_reset_account="2/min",
    )
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
@pytest.mark.usefixtures("tight_rates")
class TestLoginThrottle:
    def test_login_is_throttled_per_account_across_ips(self, api_client, user):
        body = {"login": user.email, "password": "wrong-password-x"}
        for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            assert api_client.post("/api/auth/login/", body, REMOTE_ADDR=ip).status_code == 401
        assert_throttled(api_client.post("/api/auth/login/", body, REMOTE_ADDR="10.0.0.4"))
        # The account key ignores case and surrounding spaces.
        body_variant = {"login": f"  {user.email.upper()} ", "password": "wrong-password-x"}
        assert_throttled(api_client.post("/api/auth/login/", body_variant, REMOTE_ADDR="10.0.0.5"))

    def test_login_is_throttled_per_ip_across_accounts(self, api_client):
        for n in range(5):
            body = {"login": f"nobody{n}@example.com", "password": "whatever-pass"}
            assert api_client.post("/api/auth/login/", body).status_code == 401
        assert_throttled(
            api_client.post("/api/auth/login/", {"login": "x@example.com", "password": "p"})
        )

    @pytest.mark.parametrize(
        ("path", "body"),
        [
            ("/api/auth/login/", {"login": "nobody{n}@example.com", "password": "whatever"}),
            ("/api/auth/password/reset/", {"email": "nobody{n}@example.com"}),
        ],
    )
    def test_rotating_ipv6_addresses_within_a_64_does_not_escape_the_ip_limit(
        self, api_client, path, body
    ):
        limit = 5 if "login" in path else 3
        for n in range(limit):
            filled = {key: value.format(n=n) for key, value in body.items()}
            api_client.post(path, filled, REMOTE_ADDR=f"2001:db8:7:7:{n:x}::{n + 1:x}")
        filled = {key: value.format(n=99) for key, value in body.items()}
        assert_throttled(api_client.post(path, filled, REMOTE_ADDR="2001:db8:7:7:beef::1"))
        other_network = api_client.post(path, filled, REMOTE_ADDR="2001:db8:7:8::1")
        assert other_network.status_code != 429

    def test_a_throttled_login_never_reaches_the_password_hasher(
        self, api_client, user, monkeypatch
    ):
        body = {"login": user.email, "password": "wrong-password-x"}
        for _ in range(3):
            api_client.post("/api/auth/login/", body)
        calls = []
        monkeypatch.setattr(MD5PasswordHasher, "verify", lambda *args: calls.append(args))
        assert_throttled(api_client.post("/api/auth/login/", body))
        assert calls == []

    def test_even_the_right_password_is_refused_while_throttled(self, api_client, user):
        for _ in range(3):
            api_client.post("/api/auth/login/", {"login": user.email, "password": "wrong-pw-1"})
        response = api_client.post(
            "/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD}
        )
        assert_throttled(response)


@pytest.mark.django_db
@pytest.mark.usefixtures("tight_rates")
class TestOtherThrottles:
    def test_register_is_throttled_per_ip(self, api_client):
        for n in range(2):
            body = {"email": f"bad{n}", "username": "x", "password": "p", "password_confirm": "p"}
            assert api_client.post("/api/auth/register/", body).status_code == 400
        assert_throttled(api_client.post("/api/auth/register/", {}))

    def test_password_reset_is_throttled_per_email(self, api_client, user):
        for ip in ("10.0.0.1", "10.0.0.2"):
            response = api_client.post(
                "/api/auth/password/reset/", {"email": user.email}, REMOTE_ADDR=ip
            )
            assert response.status_code == 202
        assert_throttled(
            api_client.post(
                "/api/auth/password/reset/", {"email": user.email}, REMOTE_ADDR="10.0.0.3"
            )
        )

    def test_refresh_is_throttled_per_session(self, api_client):
        pair = client_for(UserFactory()).token_pair
        for ip in ("10.0.0.1", "10.0.0.2"):
            response = api_client.post(
                "/api/auth/token/refresh/", {"refresh": pair.refresh}, REMOTE_ADDR=ip
            )
            pair_body = response.json()
            assert response.status_code == 200
            pair = type(pair)(pair_body["access"], pair_body["refresh"], pair.refresh_expires_at)
        assert_throttled(
            api_client.post(
                "/api/auth/token/refresh/", {"refresh": pair.refresh}, REMOTE_ADDR="10.0.0.3"
            )
        )

    def test_refresh_is_throttled_per_ip(self, api_client):
        for _ in range(3):
            response = api_client.post("/api/auth/token/refresh/", {"refresh": "garbage"})
            assert response.status_code == 401
        assert_throttled(api_client.post("/api/auth/token/refresh/", {"refresh": "garbage"}))


@pytest.mark.django_db
def test_client_ip_comes_from_the_one_trusted_proxy_hop(api_client, user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    response = api_client.post(
        "/api/auth/login/",
        {"login": user.email, "password": DEFAULT_PASSWORD},
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7",
        REMOTE_ADDR="127.0.0.1",
    )
    assert response.status_code == 200
    assert user.auth_sessions.get().ip == "203.0.113.7"

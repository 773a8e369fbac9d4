"""Cross-origin requests: only CORS_ALLOWED_ORIGINS (https://app.example.com in tests) is ever
allowed to read a response, with credentials; every other origin, `null` and lookalikes get no
Access-Control-Allow-Origin at all. In cookie mode, refresh and logout from any other origin are
403 `origin_not_allowed` and leave the session alone (a CSRF defence).

accounts/tests/test_cookie_mode.py checks one preflight each way and refresh/logout from
https://evil.example.net, a missing and a `null` origin; this file adds lookalike origins, more
endpoints, actual (non-preflight) requests, error responses and Vary.
"""

import pytest

from accounts.models import AuthSession
from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.testing import CommittingAPIClient, assert_error_envelope
from tests.security_cases import no_crash

pytestmark = pytest.mark.django_db

ALLOWED = "https://app.example.com"
FOREIGN = {
    "evil": "https://evil.example",
    "null": "null",
    "allowed-as-a-subdomain-of-evil": "https://app.example.com.evil.example",
    "suffix-lookalike": "https://evil-app.example.com",
    "subdomain-of-allowed": "https://sub.app.example.com",
    "http-downgrade": "http://app.example.com",
    "other-port": "https://app.example.com:8443",
    "userinfo-trick": "https://app.example.com@evil.example",
    "file-scheme": "file://",
}
# Preflights: what a browser asks before each kind of cross-origin call the frontend makes.
PREFLIGHTS = [
    ("GET", "/api/users/me/"),
    ("POST", "/api/auth/login/"),
    ("POST", "/api/auth/token/refresh/"),
    ("POST", "/api/orders/"),
    ("PATCH", "/api/billing-addresses/1/"),
]


def _preflight(client, method: str, path: str, origin: str):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )


def _assert_no_cors_grant(response) -> None:
    for header in (
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Methods",
        "Access-Control-Allow-Headers",
        "Access-Control-Expose-Headers",
    ):
        assert header not in response, (header, response[header])


@pytest.mark.parametrize(("method", "path"), PREFLIGHTS)
@pytest.mark.parametrize("origin", FOREIGN.values(), ids=FOREIGN.keys())
def test_a_preflight_from_a_foreign_origin_is_granted_nothing(db, method, path, origin):
    response = _preflight(no_crash(CommittingAPIClient()), method, path, origin)
    assert response.status_code < 500
    _assert_no_cors_grant(response)


@pytest.mark.parametrize(("method", "path"), PREFLIGHTS)
def test_a_preflight_from_the_frontend_is_granted_with_credentials_and_our_headers(
    db, method, path
):
    response = _preflight(no_crash(CommittingAPIClient()), method, path, ALLOWED)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert method in response["Access-Control-Allow-Methods"]
    allowed_headers = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "idempotency-key", "range"} <= allowed_headers


# Actual requests, answered whatever the origin; only the CORS headers decide whether a browser
# lets the page read them.
REQUESTS = {
    "public-read": ("get", "/api/courses/", None, 200),
    "own-profile": ("get", "/api/users/me/", "user", 200),
    "refused-without-login": ("get", "/api/users/me/", None, 401),
    "write": ("post", "/api/billing-addresses/", "user", 201),
    "not-found": ("get", "/api/nope/", None, 404),
}


def _actual(kind: str, origin: str):
    method, path, who, expected = REQUESTS[kind]
    client = no_crash(client_for(UserFactory.create()) if who else CommittingAPIClient())
    body = {"name": "Kim", "line1": "1 Teheran-ro"} if method == "post" else None
    kwargs = {"format": "json"} if body else {}
    response = getattr(client, method)(path, body, HTTP_ORIGIN=origin, **kwargs)
    assert response.status_code == expected, response.content[:300]
    return response


@pytest.mark.parametrize("kind", REQUESTS)
@pytest.mark.parametrize("origin", FOREIGN.values(), ids=FOREIGN.keys())
def test_an_actual_request_from_a_foreign_origin_carries_no_cors_grant(kind, origin, db):
    _assert_no_cors_grant(_actual(kind, origin))


@pytest.mark.parametrize("kind", REQUESTS)
def test_an_actual_request_from_the_frontend_may_be_read_even_when_it_is_an_error(kind, db):
    """Errors must be readable too, or the frontend cannot show the envelope's message."""
    response = _actual(kind, ALLOWED)
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response["Access-Control-Allow-Credentials"] == "true"
    # Shared caches must not serve it to another origin.
    assert "origin" in {h.strip().lower() for h in response["Vary"].split(",")}
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert {
        "retry-after",
        "content-language",
        "content-range",
        "accept-ranges",
        "idempotent-replayed",
    } <= exposed


def test_the_development_defaults_admit_vite_and_the_usual_dev_ports():
    import subprocess
    import sys
    from pathlib import Path

    code = "from django.conf import settings; print(' '.join(settings.CORS_ALLOWED_ORIGINS))"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.local", "DJANGO_ENV_FILE": "/dev/null"}
    env |= {"DJANGO_SECRET_KEY": "k" * 20 + "-local-test-key-0123456789-abcdefghijklmnop"}
    env |= {"JWT_SIGNING_KEY": "j" * 20 + "-local-test-key-0123456789-abcdefghijklmnop"}
    origins = subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[1],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"http://localhost:5173", "http://localhost:3000"} <= set(origins)


def test_urls_outside_the_api_get_no_cors_headers(db):
    response = no_crash(CommittingAPIClient()).get("/admin/login/", HTTP_ORIGIN=ALLOWED)
    assert "Access-Control-Allow-Origin" not in response


# --- Cookie mode: refresh and logout need an allowed Origin ------------------------------------


@pytest.fixture
def cookie_mode(settings):
    settings.AUTH_REFRESH_COOKIE = True
    settings.AUTH_REFRESH_COOKIE_SAMESITE = "None"
    settings.AUTH_REFRESH_COOKIE_SECURE = True
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


@pytest.fixture
def logged_in_with_cookie(cookie_mode, db):
    """A browser session: the refresh token sits in the cookie jar of `client`."""
    user = UserFactory()
    client = no_crash(CommittingAPIClient())
    response = client.post(
        "/api/auth/login/",
        {"login": user.email, "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_ORIGIN=ALLOWED,
    )
    assert response.status_code == 200, response.content
    assert client.cookies["refresh_token"].value
    return client, AuthSession.objects.get(user=user)


COOKIE_FOREIGN = {**FOREIGN, "empty": "", "javascript-scheme": "javascript://app.example.com"}


@pytest.mark.parametrize("path", ["/api/auth/token/refresh/", "/api/auth/logout/"])
@pytest.mark.parametrize("origin", COOKIE_FOREIGN.values(), ids=COOKIE_FOREIGN.keys())
def test_cookie_refresh_or_logout_from_a_foreign_origin_is_403_and_the_session_is_untouched(
    logged_in_with_cookie, path, origin
):
    client, session = logged_in_with_cookie
    response = client.post(path, HTTP_ORIGIN=origin)
    error = assert_error_envelope(response, 403, "origin_not_allowed")
    assert error["fields"] == {}
    assert "refresh_token" not in response.cookies  # neither rotated nor cleared
    assert "access" not in response.content.decode()
    fresh = AuthSession.objects.get(pk=session.pk)
    assert (fresh.refresh_jti, fresh.revoked_at) == (session.refresh_jti, None)


@pytest.mark.parametrize("origin", [ALLOWED, f"{ALLOWED}/", "http://testserver"])
@pytest.mark.parametrize("path", ["/api/auth/token/refresh/", "/api/auth/logout/"])
def test_cookie_refresh_or_logout_from_the_frontend_or_the_api_itself_works(
    logged_in_with_cookie, path, origin
):
    """The control: the same request from an allowed origin goes through."""
    client, session = logged_in_with_cookie
    response = client.post(path, HTTP_ORIGIN=origin)
    assert response.status_code in (200, 204), response.content
    fresh = AuthSession.objects.get(pk=session.pk)
    assert (fresh.refresh_jti != session.refresh_jti) or (fresh.revoked_at is not None)

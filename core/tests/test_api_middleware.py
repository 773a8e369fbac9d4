"""The JSON API skips sessions, users and messages (pages keep them), and the lean LocaleMiddleware
picks the language from the cookie or Accept-Language as Django's does (core.middleware)."""

import pytest
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.test import Client

from accounts.tests.factories import StaffFactory
from core.testing import HANGUL, assert_error_envelope
from votes.models import Poll

JSON_API = ["/api/courses/", "/api/users/me/", "/api/nope/", "/api/schema"]
PAGES = ["/admin/login/", "/api/docs/", "/api/schema/", "/api/redoc/"]
NOT_AUTHENTICATED = "Authentication credentials were not provided."


def vary(response) -> set[str]:
    return {header.strip().lower() for header in response.get("Vary", "").split(",")}


@pytest.fixture
def admin_session(db) -> Client:
    """A browser signed in to the admin as staff: it holds a valid session cookie."""
    client = Client()
    client.force_login(StaffFactory.create())
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", JSON_API)
def test_the_json_api_gets_no_session_and_no_messages(path):
    request = Client().get(path).wsgi_request
    assert not hasattr(request, "session")
    assert not hasattr(request, "_messages")


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_pages_keep_the_session_and_the_user(path):
    request = Client().get(path).wsgi_request
    assert hasattr(request, "session")
    assert request.user.is_anonymous


@pytest.mark.parametrize("path", ["/api/courses/", "/api/users/me/"])
def test_an_admin_session_sends_no_cookie_back_and_nothing_varies_on_it(admin_session, path):
    response = admin_session.get(path)
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert "cookie" not in vary(response)


def test_an_admin_session_does_not_authenticate_the_api(admin_session):
    error = assert_error_envelope(admin_session.get("/api/users/me/"), 401, "not_authenticated")
    assert error["message"] == NOT_AUTHENTICATED


def test_an_admin_session_cannot_write_through_the_api(admin_session):
    """Staff may create polls; a cookie alone (what a cross-site form sends) may not."""
    poll = {"kind": "general", "title": "Forged", "opens_at": "2030-01-01T00:00:00Z"}
    poll["closes_at"] = "2030-01-02T00:00:00Z"
    response = admin_session.post("/api/polls/", poll, content_type="application/json")
    assert_error_envelope(response, 401, "not_authenticated")
    assert not Poll.objects.exists()


def test_the_admin_session_still_opens_the_admin(admin_session):
    assert admin_session.get("/admin/").status_code == 200


# --- Language ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "cookie", "language"),
    [
        ("ko", None, "ko"),
        ("ko-KR,ko;q=0.9,en;q=0.8", None, "ko"),
        ("fr-FR,fr;q=0.9", None, "en"),
        ("x" * 300 + ";q=;;,", None, "en"),
        (None, "ko", "ko"),
        ("en", "ko", "ko"),
        ("ko", "fr", "ko"),
        ("en", "../../ko", "en"),
    ],
)
def test_the_language_comes_from_the_cookie_then_accept_language_then_english(
    accept_language, cookie, language
):
    client = Client()
    if cookie is not None:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    response = client.get("/api/users/me/", **headers)
    error = assert_error_envelope(response, 401, "not_authenticated")
    assert response["Content-Language"] == language
    assert "accept-language" in vary(response)
    if language == "ko":
        assert HANGUL.search(error["message"]), error
    else:
        assert error["message"] == NOT_AUTHENTICATED


@pytest.mark.django_db
def test_pages_speak_the_language_asked_for_too():
    response = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="ko")
    assert response["Content-Language"] == "ko"
    assert "accept-language" in vary(response)


def test_the_project_has_no_language_prefixed_urls():
    """The lean LocaleMiddleware never looks for a language in the path: i18n_patterns would
    need Django's own back."""
    assert is_language_prefix_patterns_used(settings.ROOT_URLCONF) == (False, False)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/ko/users/me/", "/api/ko/"])
def test_a_language_code_in_an_api_path_is_just_an_unknown_path(path):
    response = Client().get(path)
    error = assert_error_envelope(response, 404, "not_found")
    assert error["message"] == "Not found."
    assert response["Content-Language"] == "en"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/ko/api/users/me/", "/ko/admin/"])
def test_a_language_prefix_is_neither_followed_nor_redirected(path):
    response = Client().get(path)
    assert response.status_code == 404
    assert "Location" not in response
    assert response["Content-Language"] == "en"

"""The error envelope: every failure, from any layer, is {"error": {"code", "message", "fields"}}.

Views that fail on purpose are mounted next to the project's own URLs (and its handler400/403/
404/500), so the handler, the parsers and the Django-level error pages are checked as deployed.
"""

import json

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.test import Client
from django.urls import path
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from config import urls as project_urls
from core.exceptions import ApplicationError, error_body, exception_handler
from core.testing import HANGUL, NON_JSON_CONTENT_TYPES, assert_error_envelope

# --- Views that fail on purpose ----------------------------------------------------------------


class _EchoApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request):
        return Response({"received": request.data})


class _RaisingApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    raise_ = None  # a callable returning the exception; set through as_view()

    def get(self, request):
        raise self.raise_()


def _raising(name: str, make_exception):
    return path(f"api/_test/{name}/", _RaisingApi.as_view(raise_=make_exception))


class _AlreadyVoted(ApplicationError):
    code = "already_voted"
    status = 409
    message = "You have already voted in this poll."


urlpatterns = [
    path("api/_test/echo/", _EchoApi.as_view()),
    _raising("crash", lambda: RuntimeError("secret internal detail")),
    _raising(
        "application-error",
        lambda: _AlreadyVoted(fields={"candidate": ["Taken."]}, headers={"X-Reason": "duplicate"}),
    ),
    _raising(
        "django-validation",
        lambda: DjangoValidationError({"name": ["Bad name."], "__all__": ["Bad pair."]}),
    ),
    _raising("django-validation-list", lambda: DjangoValidationError(["One.", "Two."])),
    _raising("drf-validation", lambda: exceptions.ValidationError({"name": ["Bad name."]})),
    _raising("drf-validation-list", lambda: exceptions.ValidationError(["Bad input."])),
    _raising("django-permission", DjangoPermissionDenied),
    _raising("http404", Http404),
    _raising("too-big", RequestDataTooBig),
    _raising("suspicious", SuspiciousOperation),
    _raising("throttled", lambda: exceptions.Throttled(wait=12)),
    _raising("not-acceptable", exceptions.NotAcceptable),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = pytest.mark.urls(__name__)


@pytest.fixture
def client() -> APIClient:
    """Answers 500 as a response instead of re-raising, so a crash reads as a wrong status."""
    return APIClient(raise_request_exception=False)


# --- Each kind of exception becomes the envelope -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "status_code", "code", "fields"),
    [
        ("application-error", 409, "already_voted", {"candidate": ["Taken."]}),
        (
            "django-validation",
            400,
            "validation_error",
            {"name": ["Bad name."], "non_field_errors": ["Bad pair."]},
        ),
        ("django-validation-list", 400, "validation_error", {"non_field_errors": ["One.", "Two."]}),
        ("drf-validation", 400, "validation_error", {"name": ["Bad name."]}),
        ("drf-validation-list", 400, "validation_error", {"non_field_errors": ["Bad input."]}),
        ("django-permission", 403, "permission_denied", {}),
        ("http404", 404, "not_found", {}),
        ("too-big", 413, "request_too_large", {}),
        ("suspicious", 400, "bad_request", {}),
        ("throttled", 429, "throttled", {}),
        ("not-acceptable", 406, "not_acceptable", {}),
    ],
)
def test_raised_exception_becomes_the_envelope_with_its_status_and_code(
    client, name, status_code, code, fields
):
    error = assert_error_envelope(client.get(f"/api/_test/{name}/"), status_code, code)
    assert error["fields"] == fields


def test_application_error_keeps_its_message_and_headers(client):
    response = client.get("/api/_test/application-error/")
    error = assert_error_envelope(response, 409, "already_voted")
    assert error["message"] == "You have already voted in this poll."
    assert response["X-Reason"] == "duplicate"


def test_error_body_renders_lazy_messages_as_plain_json_strings():
    """The body is stored as JSON for Idempotency-Key replays, so nothing lazy may stay in it."""
    body = error_body("empty_order", gettext_lazy("Not found."), {"items": [gettext_lazy("Bad.")]})

    assert json.loads(json.dumps(body)) == {
        "error": {"code": "empty_order", "message": "Not found.", "fields": {"items": ["Bad."]}}
    }


def test_throttled_says_when_to_retry_in_header_and_message(client):
    response = client.get("/api/_test/throttled/")
    error = assert_error_envelope(response, 429, "throttled")
    assert response["Retry-After"] == "12"
    assert "12" in error["message"]


def test_crash_under_api_is_500_envelope_without_internal_details(client):
    response = client.get("/api/_test/crash/")
    error = assert_error_envelope(response, 500, "server_error")
    assert error["fields"] == {}
    assert b"secret internal detail" not in response.content
    assert b"Traceback" not in response.content


def test_handler_leaves_unknown_exceptions_to_django():
    """None makes DRF re-raise, so Django's handler500 answers (and the error is logged)."""
    assert exception_handler(RuntimeError("boom"), {}) is None


# --- Requests that never reach a view, or cannot be parsed -------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ["/api/nope/", "/api/", "/api/health/extra/", "/api/_test/"])
def test_unknown_url_under_api_is_404_envelope(client, method, url):
    error = assert_error_envelope(getattr(client, method)(url), 404, "not_found")
    assert error["fields"] == {}


def test_unknown_url_outside_api_is_not_answered_with_json(client):
    response = client.get("/definitely-not-here/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_disallowed_host_under_api_is_400_envelope():
    """Raised in middleware (SuspiciousOperation), answered by handler400."""
    response = Client(raise_request_exception=False).get(
        "/api/health/", HTTP_HOST="evil.example.com"
    )
    error = assert_error_envelope(response, 400, "bad_request")
    assert error["fields"] == {}


@pytest.mark.parametrize(
    ("method", "url"),
    [("post", "/api/health/"), ("delete", "/api/health/"), ("get", "/api/_test/echo/")],
)
def test_wrong_method_is_405_envelope_and_allow_header_names_the_right_ones(client, method, url):
    response = getattr(client, method)(url)
    assert_error_envelope(response, 405, "method_not_allowed")
    assert method.upper() not in response["Allow"]


@pytest.mark.parametrize(
    "body",
    [
        '{"name": ',
        "{",
        '{"a": 1,}',
        "{'a': 'single quotes'}",
        '{"a": NaN}',
        '{"a": Infinity}',
        b'{"a": "\xff\xfe"}',
        "\x00",
        "   ",
    ],
    ids=[
        "truncated",
        "open-brace",
        "trailing-comma",
        "single-quotes",
        "nan",
        "infinity",
        "not-utf8",
        "nul",
        "blank",
    ],
)
def test_malformed_json_is_400_parse_error_with_empty_fields(client, body):
    response = client.generic("POST", "/api/_test/echo/", body, content_type="application/json")
    error = assert_error_envelope(response, 400, "parse_error")
    assert error["fields"] == {}


@pytest.mark.parametrize(
    "content_type",
    NON_JSON_CONTENT_TYPES,
)
def test_non_json_content_type_is_415(client, content_type):
    response = client.generic("POST", "/api/_test/echo/", '{"a": 1}', content_type=content_type)
    assert_error_envelope(response, 415, "unsupported_media_type")


def _json_of_size(size: int) -> str:
    body = json.dumps({"padding": "x" * (size - len(json.dumps({"padding": ""})))})
    assert len(body.encode()) == size
    return body


def test_upload_limit_is_one_mebibyte(settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024


def test_json_body_over_the_limit_is_413_request_too_large(client, settings):
    body = _json_of_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.generic("POST", "/api/_test/echo/", body, content_type="application/json")
    error = assert_error_envelope(response, 413, "request_too_large")
    assert error["fields"] == {}


def test_json_body_at_the_limit_is_parsed(client, settings):
    body = _json_of_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    response = client.generic("POST", "/api/_test/echo/", body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["received"] == json.loads(body)


def test_body_limit_follows_the_setting(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64
    body = _json_of_size(65)
    response = client.generic("POST", "/api/_test/echo/", body, content_type="application/json")
    assert_error_envelope(response, 413, "request_too_large")


# --- Language ------------------------------------------------------------------------------------


def test_messages_are_english_without_accept_language(client):
    assert_error_envelope(client.get("/api/nope/"), 404, "not_found")
    error = assert_error_envelope(client.get("/api/_test/drf-validation/"), 400)
    assert error["message"] == "Some fields are invalid."


@pytest.mark.parametrize(
    ("url", "status_code", "code"),
    [
        ("/api/nope/", 404, "not_found"),
        ("/api/_test/drf-validation/", 400, "validation_error"),
        ("/api/_test/too-big/", 413, "request_too_large"),
    ],
)
def test_envelope_message_is_korean_for_accept_language_ko_and_code_is_unchanged(
    client, url, status_code, code
):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="ko")
    error = assert_error_envelope(response, status_code, code)
    assert response["Content-Language"] == "ko"
    assert HANGUL.search(error["message"]), error["message"]

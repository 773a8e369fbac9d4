"""X-Request-ID: every response carries one (errors and unknown paths included), taken from the
request when it is a sane id (nginx's $request_id), else made here; and every log line written
while the request runs names it. A forged header never reaches a response header or a log line."""

import io
import logging
import re
import uuid

import pytest
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from config import urls as project_urls
from core.request_id import RequestIdLogFilter, request_id_from_header, request_id_get
from core.testing import assert_error_envelope

GENERATED = re.compile(r"[0-9a-f]{32}")
NGINX_ID = "9f2c1e0b7a6d4c3b8e5f1a2b3c4d5e6f"  # what nginx's $request_id looks like
logger = logging.getLogger("core.tests.request_id")


class _LoggingApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request):
        logger.warning("inside the view")
        return Response({"request_id": request_id_get()})


class _CrashingApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [
    path("api/_test/logs/", _LoggingApi.as_view()),
    path("api/_test/crash/", _CrashingApi.as_view()),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture
def client() -> APIClient:
    return APIClient(raise_request_exception=False)


@pytest.fixture
def log_lines():
    """What the project's configured console handler (settings.LOGGING) writes, as lines."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestIdLogFilter) for f in handler.filters)
    ]
    assert len(handlers) == 1, "LOGGING gives the root logger one handler with the filter"
    handler = handlers[0]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield lambda: stream.getvalue().splitlines()
    finally:
        handler.setStream(previous)


# --- Which id -----------------------------------------------------------------------------------


def test_a_request_without_the_header_gets_a_fresh_id(client):
    first = client.get("/api/health/live/")
    second = client.get("/api/health/live/")

    assert GENERATED.fullmatch(first["X-Request-ID"])
    assert GENERATED.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "sent", [NGINX_ID, str(uuid.uuid4()), "web-1.2_3", "a", "A" * 128], ids=str.__len__
)
def test_a_sane_id_from_the_proxy_is_kept(client, sent):
    response = client.get("/api/_test/logs/", HTTP_X_REQUEST_ID=sent)

    assert response["X-Request-ID"] == sent
    assert response.json() == {"request_id": sent}


HOSTILE_IDS = {
    "header injection": "abc\r\nSet-Cookie: session=stolen",
    "newline": "abc\ndef",
    "log line forgery": 'abc" level=ERROR msg="forged',
    "one too long": "A" * 129,
    "huge": "x" * 100_000,
    "space": "abc def",
    "empty": "",
    "hangul": "요청-1",
    "fullwidth letters": "\uff41\uff42\uff43",
    "arabic-indic digit": "abc\u0661",
    "kelvin sign": "\u212a",
    "nul": "abc\x00def",
    "json break": '"}, {"x": "',
    "path": "../../etc/passwd",
}


@pytest.mark.parametrize("sent", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
def test_a_forged_id_is_replaced_never_echoed(client, sent, log_lines):
    response = client.get("/api/_test/logs/", HTTP_X_REQUEST_ID=sent)

    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert GENERATED.fullmatch(request_id)
    assert response.json() == {"request_id": request_id}
    assert "Set-Cookie" not in response
    assert not response.cookies
    lines = [line for line in log_lines() if "inside the view" in line]
    assert len(lines) == 1
    assert f"[{request_id}]" in lines[0]
    if sent:
        assert sent not in "\n".join(log_lines())


@pytest.mark.parametrize("sent", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
def test_request_id_from_header_refuses_what_the_pattern_does_not_allow(sent):
    assert GENERATED.fullmatch(request_id_from_header(sent))


def test_request_id_from_header_without_a_header_makes_one():
    assert GENERATED.fullmatch(request_id_from_header(None))


# --- On every response --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status_code"),
    [
        ("get", "/api/nope/", 404),  # the envelope 404 of an unknown /api/ path
        ("get", "/api/auth/login", 404),  # the missing-slash hint
        ("get", "/api/users/me/", 401),
        ("post", "/api/auth/login/", 400),
        ("delete", "/api/health/live/", 405),
        ("get", "/api/_test/crash/", 500),
    ],
)
def test_error_responses_carry_the_id_too(client, method, url, status_code):
    response = getattr(client, method)(url, HTTP_X_REQUEST_ID=NGINX_ID)

    assert response.status_code == status_code
    assert response["X-Request-ID"] == NGINX_ID
    assert_error_envelope(response, status_code)


def test_pages_outside_the_api_carry_the_id(client):
    response = client.get("/admin/login/", HTTP_X_REQUEST_ID=NGINX_ID)
    assert response.status_code == 200
    assert response["X-Request-ID"] == NGINX_ID


def test_a_browser_on_an_allowed_origin_may_read_the_id(client):
    response = client.get(
        "/api/health/live/", HTTP_ORIGIN="https://app.example.com", HTTP_X_REQUEST_ID=NGINX_ID
    )
    assert "x-request-id" in response["Access-Control-Expose-Headers"].lower()


# --- In the logs --------------------------------------------------------------------------------


def test_every_log_line_of_a_request_names_its_id(client, log_lines):
    client.get("/api/_test/logs/", HTTP_X_REQUEST_ID=NGINX_ID)
    client.get("/api/_test/crash/", HTTP_X_REQUEST_ID="crash-1")

    lines = log_lines()
    view_line = next(line for line in lines if "inside the view" in line)
    assert re.fullmatch(
        rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} WARNING core\.tests\.request_id "
        rf"\[{NGINX_ID}\] inside the view",
        view_line,
    )
    crash_line = next(line for line in lines if "Internal Server Error" in line)
    assert " ERROR django.request [crash-1] " in crash_line


def test_a_line_logged_outside_a_request_says_so(log_lines):
    logger.warning("no request here")
    assert log_lines()[-1].endswith(" WARNING core.tests.request_id [-] no request here")


def test_the_id_does_not_outlive_its_request(client):
    client.get("/api/_test/logs/", HTTP_X_REQUEST_ID=NGINX_ID)
    assert request_id_get() == "-"

"""Sentry (core.sentry): off without SENTRY_DSN; with one, an unhandled error in a view reaches the
server named by the DSN (here a stub on loopback) tagged with the request id, and nothing a
client caused (4xx) or sent (body, token, cookie) does."""

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sentry_sdk
from django.core.exceptions import DisallowedHost, PermissionDenied
from django.http import Http404
from rest_framework import exceptions

from core.errors import IdempotencyKeyReused
from core.exceptions import ApplicationError
from core.sentry import client_error_status, event_filter

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("SECRET-REFRESH-TOKEN", "SECRET-BEARER-TOKEN", "SECRET-COOKIE", "SECRET-PASSWORD")

# Requests in a fresh process, whose settings initialise Sentry when SENTRY_DSN is set: a crash
# (with secrets in its body and headers), then answers a client caused, then a logged error.
REQUESTS = """
import logging
import django
django.setup()
import sentry_sdk
from django.test import Client
from django.urls import clear_url_caches, path
from rest_framework.views import APIView
from config import urls
from core.errors import IdempotencyKeyReused

def crash(request):
    password = "SECRET-PASSWORD"  # a local variable of the failing frame
    raise RuntimeError("boom in the view")

class Conflict(APIView):
    authentication_classes = ()
    permission_classes = ()
    def get(self, request):
        raise IdempotencyKeyReused()

urls.urlpatterns[:0] = [path("api/_crash/", crash), path("api/_conflict/", Conflict.as_view())]
clear_url_caches()
client = Client(raise_request_exception=False)
statuses = [
    client.post(
        "/api/_crash/",
        {"refresh": "SECRET-REFRESH-TOKEN", "password": "SECRET-PASSWORD"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer SECRET-BEARER-TOKEN",
        HTTP_COOKIE="sessionid=SECRET-COOKIE",
        HTTP_X_REQUEST_ID="req-crash-1",
    ).status_code,
    client.get("/api/_conflict/").status_code,
    client.get("/api/nope/").status_code,
    client.get("/api/users/me/").status_code,
    client.get("/api/health/live/", HTTP_HOST="evil.example").status_code,
]
logging.getLogger("payments.services").error("a logged error outside any request")
sentry_sdk.flush(timeout=10)
print(sentry_sdk.get_client().is_active(), *statuses)
"""


class _Stub(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.received.append((self.path, body.decode()))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_stub():
    """A Sentry server on loopback recording each envelope (path, text)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run_requests(**env: str) -> list[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SENTRY")}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.test", **env)
    result = subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
        [sys.executable, "-c", REQUESTS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def envelope_items(text: str) -> list[tuple[dict, dict]]:
    """(item header, payload) of each item of an envelope: header line, then header and payload
    lines in turn."""
    lines = text.splitlines()[1:]
    return [(json.loads(h), json.loads(p)) for h, p in zip(lines[::2], lines[1::2], strict=True)]


def test_an_unhandled_error_reaches_sentry_once_and_nothing_else_does(sentry_stub):
    port = sentry_stub.server_address[1]

    printed = run_requests(
        SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1",
        SENTRY_ENVIRONMENT="ci",
        SENTRY_RELEASE="lms@1.2.3",
    )

    assert printed == ["True", "500", "409", "404", "401", "400"]
    assert {path for path, _ in sentry_stub.received} == {"/api/1/envelope/"}
    events = [
        payload
        for _, text in sentry_stub.received
        for header, payload in envelope_items(text)
        if header["type"] == "event"
    ]
    assert len(events) == 2, [event.get("logentry") or event.get("exception") for event in events]
    crash, logged = sorted(events, key=lambda event: "exception" not in event)
    assert crash["exception"]["values"][-1]["type"] == "RuntimeError"
    assert crash["exception"]["values"][-1]["value"] == "boom in the view"
    assert crash["tags"]["request_id"] == "req-crash-1"
    assert (crash["environment"], crash["release"]) == ("ci", "lms@1.2.3")
    assert crash["transaction"] == "/api/_crash/"
    assert not crash["request"].get("data"), "request bodies never leave"
    assert logged["logentry"]["message"] == "a logged error outside any request"
    assert "request_id" not in logged.get("tags", {})
    everything_sent = "".join(text for _, text in sentry_stub.received)
    for secret in SECRETS:
        assert secret not in everything_sent, secret
    assert "ip_address" not in everything_sent


def test_without_a_dsn_sentry_is_never_initialised(sentry_stub):
    assert run_requests() == ["False", "500", "409", "404", "401", "400"]
    assert run_requests(SENTRY_DSN="") == ["False", "500", "409", "404", "401", "400"]
    assert sentry_stub.received == []
    assert not sentry_sdk.get_client().is_active()  # nor in this test run


@pytest.mark.parametrize(
    ("exception", "status"),
    [
        (IdempotencyKeyReused(), 409),
        (ApplicationError(), 400),
        (exceptions.NotAuthenticated(), 401),
        (exceptions.Throttled(), 429),
        (Http404(), 404),
        (PermissionDenied(), 403),
        (DisallowedHost("evil.example"), 400),
        (exceptions.APIException(), None),  # 500
        (RuntimeError("boom"), None),
    ],
)
def test_client_errors_are_told_from_server_errors(exception, status):
    assert client_error_status(exception) == status


def test_an_error_logged_with_a_4xx_status_is_dropped():
    class Record:
        status_code = 404

    assert event_filter({"level": "error"}, {"log_record": Record()}) is None
    Record.status_code = 500
    assert event_filter({"level": "error"}, {"log_record": Record()}) == {"level": "error"}

"""Log lines: JSON (production) is one object per line whatever a message holds; LOG_FORMAT picks
the format, and a whole request's lines carry the id its response gives in X-Request-ID."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.logs import JsonFormatter
from core.request_id import RequestIdLogFilter

ROOT = Path(__file__).resolve().parents[2]


def formatted(message: str, *args, exc_info=None, **extra) -> str:
    record = logging.LogRecord(
        "payments.services", logging.ERROR, __file__, 1, message, args, exc_info
    )
    record.__dict__.update(extra)
    RequestIdLogFilter().filter(record)
    return JsonFormatter().format(record)


def test_a_record_is_one_json_object_with_time_level_logger_and_request_id():
    line = formatted("order %s failed", 42)

    entry = json.loads(line)
    assert entry == {
        "time": entry["time"],
        "level": "ERROR",
        "logger": "payments.services",
        "request_id": "-",
        "message": "order 42 failed",
    }
    assert entry["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "message",
    [
        "line one\nline two",
        'forged\n{"level": "INFO", "message": "all good"}',
        "carriage\rreturn",
        "결제 실패: 카드 한도 초과",
        "nul \x00 and escape \x1b[31m",
    ],
)
def test_whatever_a_message_holds_it_stays_on_one_line(message):
    line = formatted(message)

    assert "\n" not in line and "\r" not in line
    assert json.loads(line)["message"] == message


def test_korean_stays_readable():
    assert "결제 실패" in formatted("결제 실패")


def test_a_traceback_and_the_status_code_are_fields_of_the_same_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        line = formatted("Internal Server Error", exc_info=sys.exc_info(), status_code=500)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["status_code"] == 500
    assert entry["exc_info"].startswith("Traceback")
    assert "ValueError: bad\nvalue" in entry["exc_info"]


REQUESTS_IN_A_FRESH_PROCESS = """
import logging
import django
django.setup()
from django.test import Client
from django.urls import clear_url_caches, path
from config import urls

def crash(request):
    logging.getLogger("payments.services").warning("about to fail")
    raise RuntimeError("boom")

urls.urlpatterns.insert(0, path("api/_crash/", crash))
clear_url_caches()
response = Client(raise_request_exception=False).get("/api/_crash/", HTTP_X_REQUEST_ID="req-42")
logging.getLogger("payments.services").error("after the request")
print(response.status_code, response["X-Request-ID"])
"""


def run_requests(**env: str) -> subprocess.CompletedProcess:
    """A crashing request in a fresh process with the test settings and `env`: stdout is the
    response's status and X-Request-ID, stderr the log lines."""
    environment = {
        key: value for key, value in os.environ.items() if key not in ("LOG_FORMAT", "SENTRY_DSN")
    }
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.test", **env)
    return subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
        [sys.executable, "-c", REQUESTS_IN_A_FRESH_PROCESS],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_log_format_json_writes_only_json_lines_naming_the_request():
    result = run_requests(LOG_FORMAT="json")

    assert result.stdout.split() == ["500", "req-42"]
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    in_view = next(entry for entry in entries if entry["message"] == "about to fail")
    assert (in_view["level"], in_view["logger"], in_view["request_id"]) == (
        "WARNING",
        "payments.services",
        "req-42",
    )
    crash = next(entry for entry in entries if entry["logger"] == "django.request")
    assert crash["message"] == "Internal Server Error: /api/_crash/"
    assert (crash["level"], crash["request_id"], crash["status_code"]) == ("ERROR", "req-42", 500)
    assert "RuntimeError: boom" in crash["exc_info"]
    after = next(entry for entry in entries if entry["message"] == "after the request")
    assert after["request_id"] == "-"


def test_the_default_format_is_text_naming_the_request():
    result = run_requests()

    assert result.stdout.split() == ["500", "req-42"]
    assert " WARNING payments.services [req-42] about to fail\n" in result.stderr
    assert " ERROR django.request [req-42] Internal Server Error: /api/_crash/\n" in result.stderr
    assert " ERROR payments.services [-] after the request\n" in result.stderr

"""Assertions shared by every app's tests."""

import re

from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

NON_JSON_CONTENT_TYPES = [
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/octet-stream",
]
SNAKE_CASE = re.compile(r"^[a-z]+(_[a-z]+)*$")
HANGUL = re.compile("[\uac00-\ud7a3]")


def assert_error_envelope(response, status_code: int, code: str | None = None) -> dict:
    """The response has `status_code` and exactly the envelope; returns its "error" object."""
    assert response.status_code == status_code, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, error
    assert SNAKE_CASE.match(error["code"]), error["code"]
    assert isinstance(error["message"], str), error
    assert error["message"].strip(), error
    assert isinstance(error["fields"], dict), error
    for messages in error["fields"].values():
        assert isinstance(messages, list), error
        assert all(isinstance(message, str) for message in messages), error
    if code is not None:
        assert error["code"] == code, error
    return error


def on_own_connection(request_fn):
    """For threads: run `request_fn` on the thread's own database connection, then close it."""

    def run(*args):
        try:
            return request_fn(*args)
        finally:
            connection.close()

    return run


class CommittingAPIClient(APIClient):
    """Runs each request's on_commit callbacks as production's autocommit would.

    Tests run inside a transaction that never commits, so without this a revocation or an email
    scheduled with transaction.on_commit would never happen.
    """

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


def openapi_path(route: str) -> str:
    """A URL pattern's route (`api/polls/<int:poll_id>/`) as the schema names its path."""
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route.lstrip("/"))


def documented_error_codes(response: dict) -> list[str]:
    """The `code` enum of an error response in the OpenAPI schema (core.openapi)."""
    body = response["content"]["application/json"]["schema"]
    assert body["required"] == ["error"], body
    error_object, narrowed = body["properties"]["error"]["allOf"]
    assert error_object == {"$ref": "#/components/schemas/Error"}, body
    return narrowed["properties"]["code"]["enum"]


def throttle_rates(settings, **changes: str) -> None:
    """Set some of DEFAULT_THROTTLE_RATES for one test (the `settings` fixture undoes it)."""
    merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **changes}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}

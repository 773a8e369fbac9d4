"""Malformed and oversized bodies on every JSON endpoint that writes: a 4xx in the envelope (400,
413, 415), never a 500, and nothing written.

Each endpoint first gets its valid body (the control), then one defect at a time. The accounts
endpoints' invalid JSON, non-object bodies, 413 and 415 are in accounts/tests/test_bad_input.py;
they join here for what that file does not try (deep nesting, duplicate keys). Ids and numbers
are in test_security_ids.py.
"""

import json

import pytest

from core.testing import NON_JSON_CONTENT_TYPES, assert_error_envelope
from tests.security_cases import (
    ENDPOINTS,
    EVERY_ENDPOINT,
    assert_body_refused,
    send_to,
    valid_body,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("endpoint", EVERY_ENDPOINT)
def test_the_valid_body_is_accepted_so_each_defect_below_is_tested_alone(world, endpoint):
    response = send_to(world, endpoint, json.dumps(valid_body(world, endpoint)))
    expected = 401 if endpoint == "login" else None  # a well-formed login with a wrong password
    if expected:
        assert_error_envelope(response, expected, "invalid_credentials")
    else:
        assert 200 <= response.status_code < 300, response.content[:300]


# --- Bodies that are not JSON, or not an object ------------------------------------------------

INVALID_JSON = {
    "truncated": '{"name": ',
    "trailing-comma": '{"name": "a",}',
    "nan-literal": '{"price": NaN}',
    "minus-infinity-literal": '{"price": -Infinity}',
    "not-utf8": b'{"name": "\xff\xfe"}',
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body", INVALID_JSON.values(), ids=INVALID_JSON.keys())
def test_invalid_json_is_400_parse_error(world, endpoint, body):
    error = assert_body_refused(world, endpoint, body, 400, "parse_error")
    assert error["fields"] == {}


NOT_AN_OBJECT = {
    "array-of-the-valid-body": None,  # built per endpoint
    "string": '"text"',
    "number": "42",
    "null": "null",
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_json_that_is_not_an_object_is_400_validation_error(world, endpoint, body):
    body = body or json.dumps([valid_body(world, endpoint)])
    error = assert_body_refused(world, endpoint, body, 400, "validation_error")
    assert error["fields"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_over_the_upload_limit_is_413_request_too_large(world, endpoint, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048  # the same code path as 1 MiB, 500 times faster
    body = {**valid_body(world, endpoint), "padding": "x" * 2048}
    error = assert_body_refused(world, endpoint, json.dumps(body), 413, "request_too_large")
    assert error["fields"] == {}


# multipart/form-data is a real format of the endpoints that take uploads (test_security_uploads).
CONTENT_TYPE_CASES = [
    pytest.param(endpoint, content_type, id=f"{content_type.split(';')[0]}-{endpoint}")
    for endpoint, (*_rest, takes_multipart) in ENDPOINTS.items()
    for content_type in NON_JSON_CONTENT_TYPES
    if not (takes_multipart and content_type.startswith("multipart/"))
]


@pytest.mark.parametrize(("endpoint", "content_type"), CONTENT_TYPE_CASES)
def test_a_non_json_content_type_is_415(world, endpoint, content_type):
    body = json.dumps(valid_body(world, endpoint))
    assert_body_refused(world, endpoint, body, 415, "unsupported_media_type", content_type)


# --- JSON that parses, but should not get far ----------------------------------------------------

DEPTH = 10_000


def _nested_objects(world, endpoint):
    return '{"a":' * DEPTH + "1" + "}" * DEPTH


def _nested_arrays(world, endpoint):
    return "[" * DEPTH + "]" * DEPTH


def _nested_in_a_field(world, endpoint):
    body = valid_body(world, endpoint)
    field = next(iter(body))
    text = json.dumps({key: value for key, value in body.items() if key != field})
    return (
        text[:-1]
        + (", " if len(body) > 1 else "")
        + f'"{field}": '
        + "[" * DEPTH
        + "]" * DEPTH
        + "}"
    )


DEEP = {
    "objects": _nested_objects,
    "arrays": _nested_arrays,
    "inside-a-field": _nested_in_a_field,
}


@pytest.mark.parametrize("endpoint", EVERY_ENDPOINT)
@pytest.mark.parametrize("make", DEEP.values(), ids=DEEP.keys())
def test_deeply_nested_json_is_400_parse_error_not_a_crash(world, endpoint, make):
    body = make(world, endpoint)
    assert len(body.encode()) < 1024 * 1024  # under the limit: the parser itself must cope
    assert_body_refused(world, endpoint, body, 400, "parse_error")


def _duplicated(world, endpoint) -> str:
    """The valid body with its first key given twice: first an invalid value, then the valid one.
    Parsers disagree about which wins (a proxy or WAF may read the first), so refuse."""
    body = valid_body(world, endpoint)
    field = next(iter(body))
    rest = json.dumps(body)[1:]
    return "{" + json.dumps(field) + ': {"$ne": null}, ' + rest


@pytest.mark.parametrize("endpoint", EVERY_ENDPOINT)
def test_duplicate_keys_are_400_not_silently_resolved(world, endpoint):
    assert_body_refused(world, endpoint, _duplicated(world, endpoint), 400)

"""Oversized bodies, other content types, wrong methods, unknown URLs and bad query strings on
the accounts endpoints: a 4xx in the error envelope, nothing written."""

import json

import pytest

from accounts.models import AuthSession
from accounts.testing import client_for
from accounts.tests.bad_input.cases import ENDPOINTS, LONG_EMAIL, fullwidth
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, UserFactory
from accounts.tests.helpers import db_state, no_crash_client
from core.testing import NON_JSON_CONTENT_TYPES, assert_error_envelope

# --- Size, content type, method, URL -----------------------------------------------------------


def _padded_json(data: dict, size: int) -> str:
    filler = size - len(json.dumps({**data, "padding": ""}).encode())
    body = json.dumps({**data, "padding": "x" * filler})
    assert len(body.encode()) == size
    return body


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_body_over_upload_limit_is_413_request_too_large_and_writes_nothing(
    scene, endpoint, settings
):
    body = _padded_json(scene.valid_body(endpoint), settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    before = db_state()
    error = assert_error_envelope(scene.send(endpoint, body), 413, "request_too_large")
    assert error["fields"] == {}
    assert db_state() == before


def test_login_body_exactly_at_upload_limit_is_processed(scene, settings):
    body = _padded_json(scene.valid_body("login"), settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    sessions = AuthSession.objects.count()
    response = scene.send("login", body)
    assert response.status_code == 200, response.content[:300]
    assert AuthSession.objects.count() == sessions + 1


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize(
    "content_type",
    NON_JSON_CONTENT_TYPES,
)
def test_valid_body_with_non_json_content_type_is_415_and_writes_nothing(
    scene, endpoint, content_type
):
    body = json.dumps(scene.valid_body(endpoint))
    before = db_state()
    response = scene.send(endpoint, body, content_type=content_type)
    assert_error_envelope(response, 415, "unsupported_media_type")
    assert db_state() == before


@pytest.mark.parametrize(
    ("method", "url", "caller"),
    [
        ("GET", "/api/auth/register/", "anon"),
        ("GET", "/api/auth/login/", "anon"),
        ("PUT", "/api/auth/login/", "anon"),
        ("GET", "/api/auth/token/refresh/", "anon"),
        ("GET", "/api/auth/token/verify/", "anon"),
        ("GET", "/api/auth/logout/", "anon"),
        ("GET", "/api/auth/logout-all/", "auth"),
        ("POST", "/api/auth/sessions/", "auth"),
        ("DELETE", "/api/auth/sessions/", "auth"),
        ("GET", "/api/auth/password/change/", "auth"),
        ("GET", "/api/auth/password/reset/", "anon"),
        ("GET", "/api/auth/password/reset/confirm/", "anon"),
        ("POST", "/api/auth/availability/", "anon"),
        ("PUT", "/api/users/me/", "auth"),
        ("POST", "/api/users/me/", "auth"),
        ("POST", "/api/users/", "staff"),
        ("DELETE", "/api/users/", "staff"),
    ],
)
def test_wrong_method_is_405_and_writes_nothing(scene, method, url, caller):
    if caller == "staff":
        client = no_crash_client(client_for(StaffFactory()))
    else:
        client = getattr(scene, caller)
    body = json.dumps({"login": "alice", "password": DEFAULT_PASSWORD, "role": "admin"})
    before = db_state()
    response = client.generic(method, url, body, content_type="application/json")
    assert_error_envelope(response, 405, "method_not_allowed")
    assert method not in response["Allow"]
    assert db_state() == before


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("DELETE", "/api/auth/sessions/not-a-uuid/"),
        ("DELETE", "/api/auth/sessions/00000000-0000-0000-0000-000000000000/"),
        ("GET", "/api/users/me/extra/"),
        ("GET", "/api/users/1/extra/"),
        ("POST", "/api/auth/unknown/"),
        ("GET", "/api/auth/"),
        ("GET", "/api/auth/sessions/?page=abc"),
        ("GET", "/api/auth/sessions/?page=2"),
    ],
)
def test_unknown_accounts_url_or_page_is_404_not_found(scene, method, url):
    before = db_state()
    error = assert_error_envelope(scene.auth.generic(method, url), 404, "not_found")
    assert error["fields"] == {}
    assert db_state() == before


def test_deleting_another_users_session_is_404_and_that_session_stays_live(scene):
    other = client_for(UserFactory())
    other_session = AuthSession.objects.exclude(user=scene.user).get()
    before = db_state()
    response = scene.auth.delete(f"/api/auth/sessions/{other_session.pk}/")
    assert_error_envelope(response, 404, "not_found")
    assert db_state() == before
    assert other.get("/api/users/me/").status_code == 200


# --- Query strings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "non_field_errors"),
        ({"username": "bob", "email": "bob@example.com"}, "non_field_errors"),
        ({"username": ""}, "non_field_errors"),  # a blank optional parameter counts as absent
        ({"username": "u" * 31}, "username"),
        ({"username": "a\x00b"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": LONG_EMAIL}, "email"),
    ],
    ids=["none", "both", "blank", "too-long", "nul", "not-email", "long-email"],
)
def test_availability_with_bad_query_is_400_naming_the_field(scene, query, field):
    before = db_state()
    response = scene.anon.get("/api/auth/availability/", query)
    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert db_state() == before


@pytest.mark.parametrize(
    "query",
    [{"username": "' OR '1'='1"}, {"username": "%"}, {"username": fullwidth("alice!")}],
    ids=["sql", "percent", "fullwidth-with-symbol"],
)
def test_availability_refuses_usernames_that_register_would_refuse(scene, query):
    before = db_state()
    response = scene.anon.get("/api/auth/availability/", query)
    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == ["username"]
    assert db_state() == before


@pytest.mark.parametrize(
    "query",
    [{"username": "alic_"}, {"email": "%@example.com"}],
    ids=["underscore", "email-percent"],
)
def test_availability_treats_quotes_and_wildcards_as_literal_text(scene, query):
    before = db_state()
    response = scene.anon.get("/api/auth/availability/", query)
    assert response.status_code == 200, response.content
    ((field, value),) = query.items()
    assert response.json() == {"field": field, "value": value, "available": True}
    assert db_state() == before


@pytest.mark.parametrize(
    ("query", "status_code", "code", "field"),
    [
        ({"role": "superuser"}, 400, "validation_error", "role"),
        ({"part": "hacker"}, 400, "validation_error", "part"),
        ({"search": "s" * 101}, 400, "validation_error", "search"),
        ({"search": "a\x00b"}, 400, "validation_error", "search"),
        ({"page": "abc"}, 404, "not_found", None),
        ({"page": "0"}, 404, "not_found", None),
        ({"page": "99999"}, 404, "not_found", None),
    ],
    ids=["role", "part", "long-search", "nul-search", "page-text", "page-zero", "page-past-end"],
)
def test_user_list_with_bad_query_is_4xx(scene, query, status_code, code, field):
    staff = no_crash_client(client_for(StaffFactory()))
    before = db_state()
    error = assert_error_envelope(staff.get("/api/users/", query), status_code, code)
    assert list(error["fields"]) == ([field] if field else [])
    assert db_state() == before


@pytest.mark.parametrize("search", ["' OR '1'='1' --", "%", "_"])
def test_user_list_search_treats_quotes_and_wildcards_as_literal_text(scene, search):
    staff = no_crash_client(client_for(StaffFactory()))
    response = staff.get("/api/users/", {"search": search})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0

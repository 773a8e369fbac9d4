"""Bad input to the accounts endpoints: a 4xx in the error envelope, never a 500, and nothing
written (accounts, sessions, passwords, mail)."""

import json
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.models import AuthSession, CustomUser, Role
from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, TeamFactory, UserFactory
from accounts.tests.helpers import db_state, no_crash_client
from core.testing import HANGUL, NON_JSON_CONTENT_TYPES, assert_error_envelope

NEW_PASSWORD = "Quartz-Lantern-42"


# Endpoints that read a JSON body: method, path, whether the caller must be logged in.
ENDPOINTS = {
    "register": ("POST", "/api/auth/register/", False),
    "login": ("POST", "/api/auth/login/", False),
    "token_refresh": ("POST", "/api/auth/token/refresh/", False),
    "token_verify": ("POST", "/api/auth/token/verify/", False),
    "logout": ("POST", "/api/auth/logout/", False),
    "password_change": ("POST", "/api/auth/password/change/", True),
    "password_reset": ("POST", "/api/auth/password/reset/", False),
    "password_reset_confirm": ("POST", "/api/auth/password/reset/confirm/", False),
    "me_update": ("PATCH", "/api/users/me/", True),
}
VALID_BODIES = {
    "register": lambda s: {
        "email": "newcomer@example.com",
        "username": "newcomer",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    },
    "login": lambda s: {"login": s.user.email, "password": DEFAULT_PASSWORD},
    "token_refresh": lambda s: {"refresh": s.pair.refresh},
    "token_verify": lambda s: {"token": s.pair.access},
    "logout": lambda s: {"refresh": s.pair.refresh},
    "password_change": lambda s: {
        "current_password": DEFAULT_PASSWORD,
        "new_password": NEW_PASSWORD,
    },
    "password_reset": lambda s: {"email": s.user.email},
    "password_reset_confirm": lambda s: {
        "uid": s.uid,
        "token": s.reset_token,
        "new_password": NEW_PASSWORD,
    },
    "me_update": lambda s: {"name": "Changed Name"},
}
REQUIRED_FIELDS = {
    "register": ["email", "username", "password", "password_confirm"],
    "login": ["login", "password"],
    "token_refresh": ["refresh"],
    "token_verify": ["token"],
    "logout": ["refresh"],
    "password_change": ["current_password", "new_password"],
    "password_reset": ["email"],
    "password_reset_confirm": ["uid", "token", "new_password"],
}
# Fields validated as strings; the refresh token fields are checked apart (401 by design).
STRING_FIELDS = {
    "register": ["email", "username", "password", "password_confirm", "name", "part"],
    "login": ["login", "password"],
    "token_verify": ["token"],
    "password_change": ["current_password", "new_password"],
    "password_reset": ["email"],
    "password_reset_confirm": ["uid", "token", "new_password"],
    "me_update": ["name", "username", "part", "introduction", "phone"],
}


@pytest.fixture
def scene(db):
    """A logged-in student, an anonymous client and a valid password-reset link."""
    user = UserFactory(username="alice", email="alice@example.com")
    auth = no_crash_client(client_for(user))
    user.refresh_from_db()  # the login set last_login, which the reset token is bound to
    scene = SimpleNamespace(
        user=user,
        pair=auth.token_pair,
        auth=auth,
        anon=no_crash_client(APIClient()),
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        reset_token=default_token_generator.make_token(user),
    )

    def send(endpoint: str, body, content_type: str = "application/json", **extra):
        method, url, needs_login = ENDPOINTS[endpoint]
        client = scene.auth if needs_login else scene.anon
        return client.generic(method, url, body, content_type=content_type, **extra)

    scene.send = send
    scene.send_json = lambda endpoint, data, **extra: send(endpoint, json.dumps(data), **extra)
    scene.valid_body = lambda endpoint: VALID_BODIES[endpoint](scene)
    return scene


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_valid_body_is_accepted_so_each_bad_variant_fails_only_for_its_defect(scene, endpoint):
    response = scene.send_json(endpoint, scene.valid_body(endpoint))
    assert 200 <= response.status_code < 300, response.content


# --- Bodies that are not a JSON object ---------------------------------------------------------

MALFORMED_JSON = {
    "truncated": '{"login": ',
    "trailing-comma": '{"login": "a",}',
    "single-quotes": "{'login': 'a'}",
    "nan": '{"login": NaN}',
    "not-utf8": b'{"login": "\xff\xfe"}',
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("body", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_is_400_parse_error_and_writes_nothing(scene, endpoint, body):
    before = db_state()
    error = assert_error_envelope(scene.send(endpoint, body), 400, "parse_error")
    assert error["fields"] == {}
    assert db_state() == before


NOT_AN_OBJECT = {
    "list": "[]",
    "list-of-object": '[{"login": "a"}]',
    "string": '"login"',
    "number": "42",
    "boolean": "true",
    "null": "null",
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("body", NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_json_that_is_not_an_object_is_400_validation_error_and_writes_nothing(
    scene, endpoint, body
):
    before = db_state()
    error = assert_error_envelope(scene.send(endpoint, body), 400, "validation_error")
    assert error["fields"]
    assert db_state() == before


# --- Missing fields and wrong types ------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(REQUIRED_FIELDS))
def test_empty_object_is_400_naming_every_required_field(scene, endpoint):
    before = db_state()
    error = assert_error_envelope(scene.send_json(endpoint, {}), 400, "validation_error")
    assert sorted(error["fields"]) == sorted(REQUIRED_FIELDS[endpoint])
    assert db_state() == before


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [(endpoint, field) for endpoint, fields in REQUIRED_FIELDS.items() for field in fields],
)
def test_missing_required_field_is_400_naming_only_that_field(scene, endpoint, field):
    body = scene.valid_body(endpoint)
    del body[field]
    before = db_state()
    error = assert_error_envelope(scene.send_json(endpoint, body), 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert db_state() == before


WRONG_TYPES = {
    "null": None,
    "boolean": True,
    "object": {"$gt": ""},
    "list": ["x"],
    "empty-list": [],
}


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [(endpoint, field) for endpoint, fields in STRING_FIELDS.items() for field in fields],
)
@pytest.mark.parametrize("value", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_wrong_type_for_a_string_field_is_400_naming_that_field(scene, endpoint, field, value):
    body = {**scene.valid_body(endpoint), field: value}
    before = db_state()
    error = assert_error_envelope(scene.send_json(endpoint, body), 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert db_state() == before


@pytest.mark.parametrize("endpoint", ["register", "me_update"])
@pytest.mark.parametrize("value", ["abc", True, {"id": 1}, [1], -1, 10**20], ids=repr)
def test_bad_team_reference_is_400_naming_team(scene, endpoint, value):
    TeamFactory()
    body = {**scene.valid_body(endpoint), "team": value}
    before = db_state()
    error = assert_error_envelope(scene.send_json(endpoint, body), 400, "validation_error")
    assert list(error["fields"]) == ["team"]
    assert db_state() == before


@pytest.mark.parametrize("endpoint", ["token_refresh", "logout"])
@pytest.mark.parametrize(
    "value", [*WRONG_TYPES.values(), 42, ""], ids=[*WRONG_TYPES.keys(), "number", "empty"]
)
def test_refresh_field_that_is_not_a_token_string_is_401_token_not_valid(scene, endpoint, value):
    before = db_state()
    error = assert_error_envelope(
        scene.send_json(endpoint, {"refresh": value}), 401, "token_not_valid"
    )
    assert error["fields"] == {}
    assert db_state() == before


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [("register", "username"), ("login", "login"), ("me_update", "name")],
)
def test_number_where_a_string_is_expected_is_400_naming_the_field(scene, endpoint, field):
    """JSON numbers are not strings; DRF's CharField would silently turn 12345 into "12345"."""
    body = {**scene.valid_body(endpoint), field: 12345}
    before = db_state()
    error = assert_error_envelope(scene.send_json(endpoint, body), 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert db_state() == before


# --- Values of the right type that must still be refused ---------------------------------------

LONG_EMAIL = "a" * 243 + "@example.com"  # 255 characters, one over the limit
TOO_LONG = [
    ("register", "email", LONG_EMAIL),
    ("register", "username", "u" * 31),
    ("register", "password", "p" * 129),
    ("register", "name", "n" * 51),
    ("login", "login", "l" * 255),
    ("login", "login", "l" * 100_000),
    ("login", "password", "p" * 129),
    ("password_change", "current_password", "p" * 129),
    ("password_change", "new_password", "p" * 129),
    ("password_reset", "email", LONG_EMAIL),
    ("password_reset_confirm", "uid", "u" * 65),
    ("password_reset_confirm", "token", "t" * 129),
    ("password_reset_confirm", "new_password", "p" * 129),
    ("me_update", "name", "n" * 51),
    ("me_update", "username", "u" * 31),
    ("me_update", "introduction", "i" * 1001),
    ("me_update", "phone", "1" * 21),
]


@pytest.mark.parametrize(
    ("endpoint", "field", "value"),
    TOO_LONG,
    ids=[f"{endpoint}-{field}-{len(value)}" for endpoint, field, value in TOO_LONG],
)
def test_over_long_string_is_400_naming_the_field(scene, endpoint, field, value):
    body = {**scene.valid_body(endpoint), field: value}
    before = db_state()
    error = assert_error_envelope(scene.send_json(endpoint, body), 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert db_state() == before


def _refused(endpoint, field, value, status_code=400, code="validation_error", **also) -> tuple:
    """One refused request: `field` set to `value` (and `also`) in an otherwise valid body."""
    named = [field] if code == "validation_error" else []
    return endpoint, {field: value, **also}, status_code, code, named


BAD_LOGIN = {"status_code": 401, "code": "invalid_credentials"}
BAD_RESET = {"code": "invalid_reset_token"}
# SQL-ish text, LIKE wildcards, unicode tricks, and values every endpoint must refuse.
REFUSED = {
    "login-sql-or": _refused("login", "login", "' OR '1'='1' --", **BAD_LOGIN),
    "login-sql-comment": _refused("login", "login", "alice'--", **BAD_LOGIN),
    "login-percent-wildcard": _refused("login", "login", "%", **BAD_LOGIN),
    "login-underscore-wildcard": _refused("login", "login", "alic_", **BAD_LOGIN),
    "login-email-wildcard": _refused("login", "login", "%@example.com", **BAD_LOGIN),
    "login-zero-width-space": _refused("login", "login", "alice\u200b", **BAD_LOGIN),
    "login-hangul": _refused("login", "login", "앨리스", **BAD_LOGIN),
    "login-sql-password": _refused("login", "password", "' OR '1'='1", **BAD_LOGIN),
    "login-wrong-password": _refused("login", "password", "wrong-password", **BAD_LOGIN),
    "login-nul": _refused("login", "login", "ali\x00ce"),
    "register-sql-username": _refused(
        "register", "username", "robert'); DROP TABLE accounts_customuser;--"
    ),
    "register-emoji-username": _refused("register", "username", "😀😀"),
    "register-rtl-override": _refused("register", "username", "ab\u202ecd"),
    "register-zero-width": _refused("register", "username", "ab\u200bcd"),
    "register-nul-username": _refused("register", "username", "ab\x00cd"),
    "register-nul-name": _refused("register", "name", "Bob\x00"),
    "register-sql-email": _refused("register", "email", "' OR 1=1--@example.com"),
    "register-hangul-email": _refused("register", "email", "앨리스@example.com"),
    "register-taken-email-case": _refused("register", "email", "ALICE@example.com"),
    "register-password-mismatch": _refused("register", "password_confirm", "Other-Lantern-43"),
    "register-common-password": _refused(
        "register", "password", "password", password_confirm="password"
    ),
    "register-bad-part": _refused("register", "part", "hacker"),
    "reset-sql-email": _refused("password_reset", "email", "a@example.com' OR '1'='1"),
    "change-wrong-current": _refused("password_change", "current_password", "wrong-password"),
    "change-numeric-new": _refused("password_change", "new_password", "1234567890"),
    "confirm-not-base64-uid": _refused("password_reset_confirm", "uid", "!!!", **BAD_RESET),
    "confirm-hangul-uid": _refused("password_reset_confirm", "uid", "앨리스", **BAD_RESET),
    "confirm-text-uid": _refused("password_reset_confirm", "uid", "YWJj", **BAD_RESET),
    "confirm-huge-uid": _refused(
        "password_reset_confirm", "uid", urlsafe_base64_encode(b"9" * 30), **BAD_RESET
    ),
    "confirm-negative-uid": _refused(
        "password_reset_confirm", "uid", urlsafe_base64_encode(b"-1"), **BAD_RESET
    ),
    "confirm-wrong-token": _refused("password_reset_confirm", "token", "abc-123", **BAD_RESET),
    "confirm-weak-password": _refused("password_reset_confirm", "new_password", "12345678"),
    "me-sql-username": _refused("me_update", "username", "x' OR '1'='1"),
    "me-space-username": _refused("me_update", "username", "ad min"),
    "me-sql-phone": _refused("me_update", "phone", "010-1234; DROP TABLE x"),
    "me-nul-name": _refused("me_update", "name", "\x00"),
    "me-bad-part": _refused("me_update", "part", "hacker"),
    "me-taken-username-case": _refused("me_update", "username", "MALLORY"),
}


@pytest.mark.parametrize(
    ("endpoint", "overrides", "status_code", "code", "named_fields"),
    REFUSED.values(),
    ids=REFUSED.keys(),
)
def test_refused_value_is_4xx_and_writes_nothing(
    scene, endpoint, overrides, status_code, code, named_fields
):
    """Wildcards and quotes are literal text: `%` with alice's password still logs nobody in."""
    UserFactory(username="mallory", email="mallory@example.com")
    body = {**scene.valid_body(endpoint), **overrides}
    before = db_state()
    error = assert_error_envelope(scene.send_json(endpoint, body), status_code, code)
    assert list(error["fields"]) == named_fields
    assert db_state() == before


def _fullwidth(text: str) -> str:
    """ASCII letters as their fullwidth forms, which render almost alike (U+FF01 to U+FF5E)."""
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


@pytest.mark.parametrize("lookalike", [str.upper, _fullwidth], ids=["uppercase", "fullwidth"])
def test_register_with_a_lookalike_of_a_taken_username_is_400(scene, lookalike):
    """Usernames equal under NFKC and case folding look the same to people, so they collide."""
    body = {**scene.valid_body("register"), "username": lookalike("alice")}
    before = db_state()
    error = assert_error_envelope(scene.send_json("register", body), 400, "validation_error")
    assert list(error["fields"]) == ["username"]
    assert db_state() == before


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
    [{"username": "' OR '1'='1"}, {"username": "%"}, {"username": _fullwidth("alice!")}],
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


# --- Mass assignment ---------------------------------------------------------------------------

PRIVILEGED = {
    "role-admin": ("role", "admin"),
    "role-tutor": ("role", "tutor"),
    "is-staff": ("is_staff", True),
    "is-superuser": ("is_superuser", True),
    "is-active-false": ("is_active", False),
    "id": ("id", 999_999),
    "date-joined": ("date_joined", "2000-01-01T00:00:00Z"),
    "groups": ("groups", [1]),
    "user-permissions": ("user_permissions", [1]),
}


def _assert_plain_active_student(user: CustomUser) -> None:
    user.refresh_from_db()
    assert user.role == Role.STUDENT
    assert not user.is_staff
    assert not user.is_superuser
    assert user.is_active
    assert user.pk != 999_999
    assert user.date_joined.year != 2000
    assert not user.groups.exists()
    assert not user.user_permissions.exists()


@pytest.mark.parametrize(("field", "value"), PRIVILEGED.values(), ids=PRIVILEGED.keys())
def test_register_ignores_privileged_fields(scene, field, value):
    body = {**scene.valid_body("register"), field: value}
    response = scene.send_json("register", body)
    assert response.status_code == 201, response.content
    assert response.json()["user"]["role"] == "student"
    assert response.json()["user"]["is_staff"] is False
    _assert_plain_active_student(CustomUser.objects.get(email="newcomer@example.com"))


ME_PRIVILEGED = {
    **PRIVILEGED,
    "email": ("email", "hijack@example.com"),
    "password": ("password", "Hijacked-Lantern-99"),
    "last-login": ("last_login", "2000-01-01T00:00:00Z"),
}


@pytest.mark.parametrize(("field", "value"), ME_PRIVILEGED.values(), ids=ME_PRIVILEGED.keys())
def test_profile_update_ignores_privileged_fields_email_and_password(scene, field, value):
    user = scene.user
    before_login = CustomUser.objects.get(pk=user.pk).last_login
    response = scene.auth.patch("/api/users/me/", {field: value, "name": "Changed Name"})
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "alice@example.com"
    assert response.json()["role"] == "student"
    _assert_plain_active_student(user)
    assert user.name == "Changed Name"  # the request itself was processed
    assert user.email == "alice@example.com"
    assert user.check_password(DEFAULT_PASSWORD)
    assert user.last_login == before_login
    assert_error_envelope(scene.auth.get("/api/users/"), 403, "permission_denied")


# --- Accept-Language -------------------------------------------------------------------------

KOREAN = ["ko", "ko-KR,ko;q=0.9,en;q=0.8"]


@pytest.mark.parametrize("accept_language", KOREAN)
def test_invalid_credentials_message_is_korean_for_accept_language_ko(scene, accept_language):
    response = scene.send_json(
        "login", {"login": "alice", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE=accept_language
    )
    error = assert_error_envelope(response, 401, "invalid_credentials")
    assert response["Content-Language"] == "ko"
    assert HANGUL.search(error["message"]), error["message"]


@pytest.mark.parametrize("accept_language", KOREAN)
def test_validation_error_messages_are_korean_for_accept_language_ko(scene, accept_language):
    body = {**scene.valid_body("register"), "password_confirm": "Other-Lantern-43"}
    response = scene.send_json("register", body, HTTP_ACCEPT_LANGUAGE=accept_language)
    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == ["password_confirm"]
    assert HANGUL.search(error["message"]), error["message"]
    assert HANGUL.search(error["fields"]["password_confirm"][0]), error["fields"]


def test_required_field_message_is_korean_for_accept_language_ko(scene):
    response = scene.send_json("login", {}, HTTP_ACCEPT_LANGUAGE="ko")
    error = assert_error_envelope(response, 400, "validation_error")
    assert all(HANGUL.search(messages[0]) for messages in error["fields"].values()), error


def test_messages_are_english_without_accept_language(scene):
    login = scene.send_json("login", {"login": "alice", "password": "wrong"})
    error = assert_error_envelope(login, 401, "invalid_credentials")
    assert error["message"] == "The login or password is incorrect."
    register = scene.send_json("register", {})
    error = assert_error_envelope(register, 400, "validation_error")
    assert error["message"] == "Some fields are invalid."
    assert error["fields"]["email"] == ["This field is required."]


def test_unsupported_language_falls_back_to_english(scene):
    response = scene.send_json(
        "login", {"login": "alice", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    error = assert_error_envelope(response, 401, "invalid_credentials")
    assert error["message"] == "The login or password is incorrect."
    assert re.fullmatch(r"en(-.*)?", response["Content-Language"])

"""Values of the right type that the accounts endpoints must still refuse (too long, SQL-ish,
wildcards, look-alike Unicode, taken names, wrong secrets): a 4xx, nothing written."""

import pytest
from django.utils.http import urlsafe_base64_encode

from accounts.tests.bad_input.cases import LONG_EMAIL, fullwidth
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import db_state
from core.testing import assert_error_envelope

# --- Values of the right type that must still be refused ---------------------------------------

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


@pytest.mark.parametrize("lookalike", [str.upper, fullwidth], ids=["uppercase", "fullwidth"])
def test_register_with_a_lookalike_of_a_taken_username_is_400(scene, lookalike):
    """Usernames equal under NFKC and case folding look the same to people, so they collide."""
    body = {**scene.valid_body("register"), "username": lookalike("alice")}
    before = db_state()
    error = assert_error_envelope(scene.send_json("register", body), 400, "validation_error")
    assert list(error["fields"]) == ["username"]
    assert db_state() == before

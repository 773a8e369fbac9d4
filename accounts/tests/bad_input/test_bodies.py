"""Bodies that are not a JSON object, missing fields and wrong types, sent to the accounts
endpoints: a 4xx in the error envelope, never a 500, and nothing written (accounts, sessions,
passwords, mail)."""

import pytest

from accounts.tests.bad_input.cases import ENDPOINTS, REQUIRED_FIELDS, STRING_FIELDS
from accounts.tests.factories import TeamFactory
from accounts.tests.helpers import db_state
from core.testing import assert_error_envelope


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

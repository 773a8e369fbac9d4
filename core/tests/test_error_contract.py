"""The suite's error contract check (core.error_contract) flags what the schema does not say."""

from core.error_contract import undocumented_errors


def _envelope(*codes: str) -> dict:
    narrowed = {"type": "object", "properties": {"code": {"enum": list(codes)}}}
    error = {"allOf": [{"$ref": "#/components/schemas/Error"}, narrowed]}
    body = {"type": "object", "required": ["error"], "properties": {"error": error}}
    return {"content": {"application/json": {"schema": body}}}


SCHEMA = {
    "paths": {
        "/api/polls/{poll_id}/votes/": {
            "post": {"responses": {"409": _envelope("already_voted", "poll_closed")}}
        }
    }
}


def test_a_documented_code_passes():
    entries = {("/api/polls/{poll_id}/votes/", "POST", 409, "already_voted")}
    assert undocumented_errors(entries, SCHEMA) == []


def test_a_code_missing_from_the_enum_is_named():
    entries = {("/api/polls/{poll_id}/votes/", "POST", 409, "not_eligible")}
    assert undocumented_errors(entries, SCHEMA) == [
        "POST /api/polls/{poll_id}/votes/ 409: `not_eligible` is not in "
        "['already_voted', 'poll_closed']"
    ]


def test_an_undocumented_status_is_named():
    entries = {("/api/polls/{poll_id}/votes/", "POST", 403, "not_eligible")}
    assert undocumented_errors(entries, SCHEMA) == [
        "POST /api/polls/{poll_id}/votes/: status 403 (not_eligible) is not documented"
    ]


def test_test_only_routes_405_and_crashes_are_not_checked():
    entries = {
        ("/api/_test/crash/", "GET", 500, "server_error"),
        ("/api/polls/{poll_id}/votes/", "GET", 405, "method_not_allowed"),
        ("/api/polls/{poll_id}/votes/", "POST", 500, "server_error"),
    }
    assert undocumented_errors(entries, SCHEMA) == []

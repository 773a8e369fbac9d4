"""The OpenAPI schema is served, valid, and covers every API route."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from core.testing import documented_error_codes, openapi_path


def api_routes() -> set[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    skip = ("api/schema/", "api/docs/", "api/redoc/")
    return {
        "/" + route
        for route in walk(get_resolver().url_patterns)
        if route.startswith("api/") and route not in skip
    }


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi_3(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_every_api_route_is_in_the_schema(schema):
    assert {openapi_path(route) for route in api_routes()} <= set(schema["paths"])


READINESS_PATHS = ("/api/health/", "/api/health/ready/")


def test_every_operation_documents_its_errors_with_the_envelope_and_their_codes(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            if path in READINESS_PATHS:
                # Readiness answers 503 with its own body, naming the failing part.
                health = {"$ref": "#/components/schemas/Health"}
                assert errors["503"]["content"]["application/json"]["schema"] == health
                continue
            assert errors, f"{method} {path} documents no error"
            for status_code, response in errors.items():
                codes = documented_error_codes(response)
                assert codes, f"{method} {path} {status_code}"
                assert all(re.fullmatch("[a-z][a-z0-9_]*", code) for code in codes), codes
                assert len(set(codes)) == len(codes), f"{method} {path} {status_code}: {codes}"


def test_the_framework_codes_are_listed_where_they_apply(schema):
    login = schema["paths"]["/api/auth/login/"]["post"]["responses"]
    assert {"validation_error", "parse_error"} <= set(documented_error_codes(login["400"]))
    assert documented_error_codes(login["429"]) == ["throttled"]
    me = schema["paths"]["/api/users/me/"]["get"]["responses"]
    assert {"not_authenticated", "token_expired", "session_revoked"} <= set(
        documented_error_codes(me["401"])
    )
    assert documented_error_codes(me["503"]) == ["service_unavailable"]


def test_authenticated_operations_use_bearer_jwt(schema):
    me = schema["paths"]["/api/users/me/"]["get"]
    assert me["security"] == [{"jwtAuth": []}]
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
    assert "401" in me["responses"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_schema_and_docs_are_served(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 200


def _operations(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_every_operation_documents_a_success_response(schema):
    """An @extend_schema(responses={403: ...}) replaces the generated 200: it must name it too."""
    for path, method, operation in _operations(schema):
        assert any(code < "400" for code in operation["responses"]), f"{method} {path}"


def test_every_operation_documents_503_and_406(schema):
    """A database outage is 503 `service_unavailable` anywhere (core.exceptions), and DRF answers
    406 to an Accept header without JSON before any view code runs."""
    for path, method, operation in _operations(schema):
        assert {"406", "503"} <= set(operation["responses"]), f"{method} {path}"


def test_paginated_lists_document_404_for_a_page_that_does_not_exist(schema):
    lists = [
        (path, operation)
        for path, method, operation in _operations(schema)
        if method == "get" and {"page", "page_size"} <= _query_parameters(operation)
    ]
    assert len(lists) > 10
    for path, operation in lists:
        assert "404" in operation["responses"], path
        assert "page" in operation["responses"]["404"]["description"], path


def test_operations_with_query_parameters_document_400(schema):
    for path, method, operation in _operations(schema):
        if _query_parameters(operation):
            assert "400" in operation["responses"], f"{method} {path}"


def _query_parameters(operation) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


@pytest.mark.parametrize(
    ("path", "method", "status_code"),
    [
        # Found by `make fuzz` as responses the schema did not describe.
        ("/api/auth/availability/", "get", "400"),
        ("/api/payments/", "post", "404"),
        ("/api/polls/{poll_id}/candidates/{candidate_id}/voters/", "get", "200"),
    ],
)
def test_statuses_the_fuzzer_found_are_documented(schema, path, method, status_code):
    assert status_code in schema["paths"][path][method]["responses"]


@pytest.mark.parametrize("component", ["User", "CurrentUser", "Person", "Poll", "PollDetail"])
def test_part_may_be_blank_in_responses(schema, component):
    """Users without a part and polls other than part-leader answer `"part": ""`."""
    part = schema["components"]["schemas"][component]["properties"]["part"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in part["oneOf"]
    assert schema["components"]["schemas"]["BlankEnum"] == {"enum": [""]}


def test_liveness_and_readiness_are_described(schema):
    live = schema["paths"]["/api/health/live/"]["get"]
    assert live["operationId"] == "health_live"
    assert live["security"] == [{}], "no credentials"
    live_body = {"$ref": "#/components/schemas/HealthLive"}
    assert live["responses"]["200"]["content"]["application/json"]["schema"] == live_body
    assert schema["components"]["schemas"]["HealthLive"]["required"] == ["status"]
    assert "database" in schema["paths"]["/api/health/ready/"]["get"]["description"]
    ready = [schema["paths"][path]["get"] for path in READINESS_PATHS]
    assert {operation["operationId"] for operation in ready} == {"health", "health_ready"}
    assert ready[0]["responses"] == ready[1]["responses"]


def test_uploads_document_503_storage_unavailable_and_other_operations_do_not(schema):
    """Operations that take files (multipart) store them on the object store when S3_BUCKET is
    set: down, it is 503 `storage_unavailable` (core.errors.StorageUnavailable)."""
    uploads = [
        ("/api/images/", "post"),
        ("/api/videos/", "post"),
        ("/api/courses/{course_id}/thumbnail/", "put"),
        ("/api/topics/{topic_id}/submissions/", "post"),
    ]
    for path, method in uploads:
        codes = documented_error_codes(schema["paths"][path][method]["responses"]["503"])
        assert codes == ["service_unavailable", "storage_unavailable"], (path, method)
    for path, method, operation in _operations(schema):
        if (path, method) not in uploads and path not in READINESS_PATHS:
            codes = documented_error_codes(operation["responses"]["503"])
            assert "storage_unavailable" not in codes, (path, method)

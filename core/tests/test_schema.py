"""The OpenAPI schema is served, valid, and covers every API route."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


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


def to_openapi(route: str) -> str:
    import re

    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_is_valid_openapi_3(schema):
    validate_schema(schema)
    assert schema["openapi"].startswith("3.")


def test_every_api_route_is_in_the_schema(schema):
    assert {to_openapi(route) for route in api_routes()} <= set(schema["paths"])


def test_every_operation_documents_its_errors_with_the_envelope(schema):
    envelope = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
            if path == "/api/health/":
                continue
            assert errors, f"{method} {path} documents no error"
            for code, response in errors.items():
                assert response["content"]["application/json"]["schema"] == envelope, (
                    f"{method} {path} {code}"
                )


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

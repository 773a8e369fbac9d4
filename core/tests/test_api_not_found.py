"""Every /api answer is JSON in the envelope: unknown paths, a missing trailing slash, bare /api,
any method, with DEBUG on or off (no HTML 301, no debug 404 page, no APPEND_SLASH RuntimeError)."""

import pytest
from django.test import Client

from core.testing import assert_error_envelope

METHODS = ["get", "post", "put", "patch", "delete"]


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.mark.django_db
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", ["/api", "/api/nope/", "/api/nope", "/api/polls/1/extra/"])
def test_an_unknown_api_path_is_a_json_404(debug, method, path):
    response = getattr(Client(), method)(path, content_type="application/json")

    error = assert_error_envelope(response, 404, "not_found")
    assert error["message"] == "Not found."
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
@pytest.mark.parametrize("method", METHODS)
def test_a_missing_trailing_slash_is_a_json_404_naming_the_right_path(debug, method):
    response = getattr(Client(), method)(
        "/api/auth/login", {"login": "a", "password": "b"}, content_type="application/json"
    )

    error = assert_error_envelope(response, 404, "not_found")
    assert error["message"] == "Not found. API paths end with a slash: /api/auth/login/"
    assert "Location" not in response


@pytest.mark.django_db
def test_the_hint_speaks_korean(debug):
    response = Client().post("/api/polls", HTTP_ACCEPT_LANGUAGE="ko")

    error = assert_error_envelope(response, 404, "not_found")
    assert "/api/polls/" in error["message"]
    assert error["message"] != "Not found. API paths end with a slash: /api/polls/"


def test_paths_outside_the_api_keep_django_behaviour(client, settings):
    settings.DEBUG = False
    assert client.get("/admin").status_code == 301  # APPEND_SLASH for the admin's HTML pages

"""PostgreSQL unreachable: requests fail fast with 503 in the error envelope, then recover."""

import time

import pytest
from django.db import connection

from core.testing import assert_error_envelope

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database_unreachable():
    """Point the connection at a closed port for the test's requests, then back."""
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    yield
    connection.close()
    connection.settings_dict["PORT"] = real_port


def test_api_requests_are_503_with_retry_after_while_the_database_is_down(
    api_client, database_unreachable
):
    began = time.monotonic()
    response = api_client.get("/api/courses/")
    assert time.monotonic() - began < 5  # connect_timeout: failing, not hanging
    assert_error_envelope(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"


def test_health_names_the_database_while_it_is_down(api_client, database_unreachable):
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json()["database"] != "ok"


def test_requests_recover_once_the_database_is_back(api_client):
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        assert api_client.get("/api/courses/").status_code == 503
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert api_client.get("/api/courses/").status_code == 200

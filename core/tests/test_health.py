"""Health: liveness (/api/health/live/) answers while the process does, readiness
(/api/health/ready/, /api/health/) also checks the database and the cache."""

import pytest


@pytest.mark.django_db
def test_health_reports_database_and_cache_ok(api_client):
    response = api_client.get("/api/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_health_is_503_naming_the_cache_when_it_is_down(api_client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_health_is_503_naming_the_database_when_it_fails(api_client, monkeypatch):
    from django.db import connection
    from django.db.utils import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = api_client.get("/api/health/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unavailable", "cache": "ok"}


# --- Liveness and readiness ---------------------------------------------------------------------

BROKEN_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.mark.django_db
def test_readiness_has_an_explicit_path_answering_as_health(api_client, settings):
    assert api_client.get("/api/health/ready/").json() == api_client.get("/api/health/").json()
    settings.CACHES = BROKEN_CACHE
    response = api_client.get("/api/health/ready/")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "unavailable"}


@pytest.mark.django_db
def test_liveness_touches_neither_the_database_nor_the_cache(
    api_client, settings, monkeypatch, django_assert_num_queries
):
    from django.db import connection
    from django.db.utils import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    settings.CACHES = BROKEN_CACHE
    monkeypatch.setattr(connection, "cursor", refuse)
    with django_assert_num_queries(0):
        response = api_client.get("/api/health/live/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert api_client.get("/api/health/ready/").status_code == 503  # while readiness says so


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Bearer " + "x" * 5000, "Basic YWRtaW46YWRtaW4="]
)
def test_liveness_ignores_credentials_it_does_not_need(api_client, authorization):
    """A forged token makes no 401 that a healthcheck would read as a dead process."""
    response = api_client.get("/api/health/live/", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

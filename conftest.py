"""Fixtures shared by every app's tests."""

import uuid

import pytest
from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.services import ClientInfo, auth_session_start
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """A fresh cache namespace per test: throttles and revocation entries never leak between tests,
    even when several test processes share one Redis."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    for config in caches.values():
        config["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _auth_cache_not_paused(monkeypatch):
    """A test that made the cache fail must not leave the next one skipping it."""
    monkeypatch.setattr("accounts.auth_cache._cache_paused_until", 0.0)
    monkeypatch.setattr("accounts.auth_cache._revocations_not_cached", {})


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    settings.LANGUAGE_CODE = "en"


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


class CommittingAPIClient(APIClient):
    """Runs each request's on_commit callbacks as production's autocommit would.

    Tests run inside a transaction that never commits, so without this a revocation or an email
    scheduled with transaction.on_commit would never happen.
    """

    def request(self, **kwargs):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**kwargs)


@pytest.fixture
def api_client() -> APIClient:
    return CommittingAPIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def tutor(db):
    return TutorFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


def client_for(user) -> APIClient:
    """An API client holding a fresh session's access token for `user`."""
    _session, pair = auth_session_start(user=user, client=ClientInfo(user_agent="pytest"))
    client = CommittingAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    client.token_pair = pair
    return client


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def admin_client(client, db):
    """Django's test client logged in to the admin as a superuser (replaces pytest-django's,
    which does not know CustomUserManager's arguments)."""
    client.force_login(StaffFactory(is_superuser=True))
    return client


@pytest.fixture
def staff_client(staff) -> APIClient:
    return client_for(staff)

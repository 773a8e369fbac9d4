"""Fixtures shared by every app's tests."""

import copy
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.testing import CommittingAPIClient

pytest_plugins = ["core.error_contract"]


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """A fresh cache namespace per test: throttles and revocation entries never leak between tests,
    even when several test processes share one Redis."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    for config in caches.values():
        config["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _isolated_channel_layer(settings):
    """A fresh channel-layer namespace per test: sockets of one test never hear another's rooms,
    even when several test processes share one Redis."""
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    config = layers["default"].get("CONFIG")
    if config is not None:
        config["prefix"] = f"test{uuid.uuid4().hex[:16]}"
    settings.CHANNEL_LAYERS = layers


@pytest.fixture(autouse=True)
def _auth_state_reset():
    """A test that made the cache fail must not leave the next one skipping it, nor hand it the
    revocations it could not write or the tokens it verified (accounts.auth.state)."""
    from accounts.auth.state import auth_state
    from chat.broadcast import layer_state
    from core import near_cache
    from core.tasks_queue import broker_state

    for state in (auth_state, layer_state, broker_state, near_cache):
        state.reset()
    yield
    for state in (auth_state, layer_state, broker_state, near_cache):
        state.reset()


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


@pytest.fixture(scope="session")
def object_store():
    """A SeaweedFS S3 server of this test process (each xdist worker starts its own, about a
    second, on first use): `settings.STORAGES = object_store.storages()` puts a test's uploads
    on it, under a key prefix of the test's own (tools/objectstore.py)."""
    from tools.objectstore import object_store as started
    from tools.procs import run_dir

    with started(run_dir()) as store:
        yield store


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


class NearCacheClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> NearCacheClock:
    """The near cache's clock, moved by hand: an age limit is tested by stepping over it, not by
    sleeping through a short one that a loaded machine can outlast before the first check."""
    from core import near_cache

    moved = NearCacheClock(near_cache.monotonic())
    monkeypatch.setattr(near_cache, "monotonic", moved)
    return moved

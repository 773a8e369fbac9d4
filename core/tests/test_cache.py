"""core.cache.RedisCache: Django's backend with one client per pool, against the real Redis."""

import os

import pytest
from django.core.cache import caches

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "redis_test": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "core-cache-test",
        },
    }
    cache = caches["redis_test"]
    yield cache
    cache.delete_many(["a", "b"])


def test_one_client_serves_every_call(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client


def test_values_round_trip(redis_cache):
    redis_cache.set_many({"a": {"x": 1}, "b": [1, 2]}, timeout=10)
    assert redis_cache.get_many(["a", "b", "missing"]) == {"a": {"x": 1}, "b": [1, 2]}
    assert redis_cache.add("a", "other") is False
    redis_cache.delete("a")
    assert redis_cache.get("a") is None

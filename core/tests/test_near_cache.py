"""The near cache (core.near_cache) against the real Redis: what a process holds, and every way a
change made elsewhere must still reach it. "Another process" is a plain Redis client that writes
and publishes as another process's `announce` does."""

import contextlib
import os
import time
from unittest import mock

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from core import near_cache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the near cache needs Redis")


@pytest.fixture(autouse=True)
def _held_long(settings):
    """Long enough that only an announcement can end what is held (not the age limit)."""
    settings.NEAR_CACHE_SECONDS = 60


@pytest.fixture
def other_process():
    client = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def announced_elsewhere(client: redis.Redis, *keys: str) -> None:
    client.publish(near_cache.CHANNEL, "\n".join(cache.make_key(key) for key in keys))


def channel_killed(client: redis.Redis) -> None:
    """Redis closes this process's subscription (as on a restart), and only that connection:
    other test processes share the server."""
    connection = near_cache._subscription.connection
    assert connection is not None and connection._sock is not None
    host, port = connection._sock.getsockname()[:2]
    client.client_kill(f"{host}:{port}")


def redis_refuses():
    return mock.patch.object(cache, "get_many", side_effect=redis.ConnectionError("down"))


def test_a_second_read_is_answered_by_the_process_without_asking_redis():
    cache.set("near:a", 1)
    assert near_cache.get_many(["near:a"]) == {"near:a": 1}
    with redis_refuses():
        assert near_cache.get_many(["near:a"]) == {"near:a": 1}


def test_a_change_announced_by_another_process_is_seen_by_the_very_next_read(other_process):
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    cache.set("near:a", 2)
    announced_elsewhere(other_process, "near:a")
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}


def test_a_change_announced_in_this_process_is_seen_at_once():
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    cache.set("near:a", 2)
    assert near_cache.announce(["near:a"])
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}


def test_an_unannounced_change_is_seen_once_the_age_limit_passes(clock):
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    cache.set("near:a", 2)
    clock.advance(settings.NEAR_CACHE_SECONDS - 0.1)
    assert near_cache.get_many(["near:a"]) == {"near:a": 1}
    clock.advance(0.2)
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}


def test_absent_keys_are_held_until_an_announced_write_adds_them(other_process):
    assert near_cache.get_many(["near:new"]) == {}
    with redis_refuses():
        assert near_cache.get_many(["near:new"]) == {}
    cache.add("near:new", "here")
    announced_elsewhere(other_process, "near:new")
    assert near_cache.get_many(["near:new"]) == {"near:new": "here"}


def test_only_a_read_whose_every_key_is_held_is_answered_by_the_process():
    cache.set_many({"near:a": 1, "near:b": 2})
    near_cache.get_many(["near:a"])
    with redis_refuses(), pytest.raises(redis.ConnectionError):
        near_cache.get_many(["near:a", "near:b"])


def test_a_value_read_while_a_change_arrives_is_not_kept(other_process):
    cache.set("near:a", "old")
    read = cache.get_many

    def read_then_changed_elsewhere(keys):
        values = read(keys)  # the old value is on its way back...
        cache.set("near:a", "new")  # ...when another process writes and announces
        announced_elsewhere(other_process, "near:a")
        return values

    with mock.patch.object(cache, "get_many", side_effect=read_then_changed_elsewhere):
        assert near_cache.get_many(["near:a"]) == {"near:a": "old"}
    assert near_cache.get_many(["near:a"]) == {"near:a": "new"}


def test_a_closed_channel_holds_nothing_and_the_next_connection_starts_empty(other_process):
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    channel_killed(other_process)
    cache.set("near:a", 2)  # announced to nobody: the channel is gone
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}
    with redis_refuses(), pytest.raises(redis.ConnectionError):
        near_cache.get_many(["near:a"])  # nothing was kept while the channel was down


def test_the_channel_comes_back_after_its_pause(other_process, monkeypatch):
    monkeypatch.setattr(near_cache, "RECONNECT_PAUSE_SECONDS", 0.1)
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    channel_killed(other_process)
    near_cache.get_many(["near:a"])  # finds the channel closed
    time.sleep(0.15)
    near_cache.get_many(["near:a"])  # subscribes again, and keeps what it reads
    with redis_refuses():
        assert near_cache.get_many(["near:a"]) == {"near:a": 1}
    cache.set("near:a", 2)
    announced_elsewhere(other_process, "near:a")
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}


def test_a_forked_process_does_not_trust_what_its_parent_held(monkeypatch):
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    cache.set("near:a", 2)
    monkeypatch.setattr(os, "getpid", lambda: -1)
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}


def test_the_keys_of_another_cache_prefix_are_not_confused(other_process, settings):
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    other_process.publish(near_cache.CHANNEL, "another-deployment:1:near:a")
    cache.set("near:a", 2)  # unannounced: still held
    assert near_cache.get_many(["near:a"]) == {"near:a": 1}


def test_off_every_read_asks_the_cache(settings):
    settings.NEAR_CACHE_SECONDS = 0
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    with redis_refuses(), pytest.raises(redis.ConnectionError):
        near_cache.get_many(["near:a"])


def test_without_redis_it_is_the_cache_itself(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.set("near:a", 1)
    assert near_cache.get_many(["near:a"]) == {"near:a": 1}
    cache.set("near:a", 2)
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}
    assert near_cache.announce(["near:a"])


def test_an_announcement_that_cannot_be_sent_says_so_and_drops_the_local_copy():
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    cache.set("near:a", 2)
    client = cache._cache.get_client(write=True)
    with mock.patch.object(type(client), "publish", side_effect=redis.ConnectionError("down")):
        assert near_cache.announce(["near:a"]) is False
    assert near_cache.get_many(["near:a"]) == {"near:a": 2}


def test_a_change_to_another_key_does_not_stop_a_read_from_being_kept(other_process):
    cache.set_many({"near:a": 1, "near:b": 2})
    read = cache.get_many

    def read_while_another_key_changes(keys):
        values = read(keys)
        announced_elsewhere(other_process, "near:b")
        return values

    with mock.patch.object(cache, "get_many", side_effect=read_while_another_key_changes):
        near_cache.get_many(["near:a"])
    with redis_refuses():
        assert near_cache.get_many(["near:a"]) == {"near:a": 1}


def test_a_read_that_began_before_the_channel_broke_is_not_kept(other_process, monkeypatch):
    monkeypatch.setattr(near_cache, "RECONNECT_PAUSE_SECONDS", 0)
    cache.set("near:a", 1)
    near_cache.get_many(["near:b"])  # subscribed
    read = cache.get_many

    def read_while_the_channel_breaks(keys):
        values = read(keys)
        channel_killed(other_process)
        near_cache._subscription.live()  # another thread finds it closed and reconnects
        near_cache._subscription.live()
        return values

    with mock.patch.object(cache, "get_many", side_effect=read_while_the_channel_breaks):
        near_cache.get_many(["near:a"])
    with redis_refuses(), pytest.raises(redis.ConnectionError):
        near_cache.get_many(["near:a"])


def test_an_entry_left_from_before_a_lost_version_is_not_served():
    """The version key evicted or deleted while an entry it made is still kept: the version made
    anew must not be one that entry carries (a new count from 0 would serve it, stale)."""
    for old_version in (0, 1, 7):
        cache.set("near:entry", {"version": old_version, "body": "stale"})
        cache.delete("near:version")
        kept, version = near_cache.versioned_entry("near:entry", "near:version")
        assert kept is None
        assert version is not None and version > old_version


def test_a_bump_stops_the_kept_entry_being_used_and_survives_a_missing_version():
    _, version = near_cache.versioned_entry("near:entry", "near:version")
    cache.set("near:entry", {"version": version})
    assert near_cache.versioned_entry("near:entry", "near:version")[0] == {"version": version}
    near_cache.version_bump("near:version")
    assert near_cache.versioned_entry("near:entry", "near:version") == (None, version + 1)
    cache.delete("near:version")
    near_cache.version_bump("near:version")  # nothing to bump: no error, the next read makes one
    assert near_cache.versioned_entry("near:entry", "near:version")[0] is None


def test_a_bump_is_seen_by_another_process_at_once_and_makes_no_version_of_its_own(other_process):
    held = near_cache.versioned_entry("near:entry", "near:version")[1]
    assert near_cache.get_many(["near:version"]) == {"near:version": held}
    other_process.incr(cache.make_key("near:version"))  # a bump elsewhere, unannounced...
    assert near_cache.get_many(["near:version"]) == {"near:version": held}  # ...is not seen
    near_cache.version_bump("near:version")
    assert other_process.get(cache.make_key("near:version")) == str(held + 2).encode()
    cache.delete("near:version")
    near_cache.version_bump("near:version")
    assert other_process.exists(cache.make_key("near:version")) == 0


def test_a_bump_is_one_round_trip_that_announces_to_every_process(other_process):
    subscriber = other_process.pubsub()
    subscriber.subscribe(near_cache.CHANNEL)
    subscriber.get_message(timeout=1)  # the confirmation
    near_cache.versioned_entry("near:entry", "near:version")
    with commands_sent() as sent:
        near_cache.version_bump("near:version")
    assert sent == ["EVAL"]
    message = subscriber.get_message(timeout=1)
    assert message is not None and message["data"] == cache.make_key("near:version").encode()
    subscriber.close()


def test_a_delete_is_announced_in_the_same_round_trip(other_process):
    cache.set_many({"near:a": 1, "near:b": 2})
    assert near_cache.get_many(["near:a", "near:b"]) == {"near:a": 1, "near:b": 2}
    with commands_sent() as sent:
        near_cache.delete_many(["near:a", "near:b"])
    assert sent == ["DEL PUBLISH"]
    assert other_process.exists(cache.make_key("near:a"), cache.make_key("near:b")) == 0
    assert near_cache.get_many(["near:a", "near:b"]) == {}


def test_a_delete_that_fails_raises_and_keeps_nothing():
    cache.set("near:a", 1)
    near_cache.get_many(["near:a"])
    with (
        mock.patch.object(redis.client.Pipeline, "execute", side_effect=redis.ConnectionError()),
        pytest.raises(redis.ConnectionError),
    ):
        near_cache.delete_many(["near:a"])
    with redis_refuses(), pytest.raises(redis.ConnectionError):
        near_cache.get_many(["near:a"])  # not answered from the copy any more


def test_without_redis_a_bump_and_a_delete_are_the_cache_s_own(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.set("near:version", 5)
    near_cache.version_bump("near:version")
    assert cache.get("near:version") == 6
    near_cache.delete_many(["near:version"])
    near_cache.version_bump("near:version")  # missing: nothing made
    assert cache.get("near:version") is None


@contextlib.contextmanager
def commands_sent():
    """The Redis round trips this process makes meanwhile: each its command, or a pipeline's."""
    sent: list[str] = []
    single = redis.Redis.execute_command
    piped = redis.client.Pipeline._execute_pipeline

    def one(self, *args, **options):
        sent.append(str(args[0]).upper())
        return single(self, *args, **options)

    def pipeline(self, connection, commands, raise_on_error):
        sent.append(" ".join(str(args[0]).upper() for args, _options in commands))
        return piped(self, connection, commands, raise_on_error)

    with (
        mock.patch.object(redis.Redis, "execute_command", one),
        mock.patch.object(redis.client.Pipeline, "_execute_pipeline", pipeline),
    ):
        yield sent

"""A process's own copy of the hottest cache entries, dropped the moment any process changes them.

The busiest reads (a session's verdict and its user on every authenticated request, a poll's
results, catalogue pages) each cost one Redis round trip, which on a loaded host took longer than
all the rest of the request. `get_many` keeps what it read from Redis in this process for at most
NEAR_CACHE_SECONDS, absent keys too, and answers from there while every key asked for is held.
Values are shared by the requests of the process: callers must not change them.

Every write to a key read through here (a set, an add, a delete, an incr, whoever makes it) is
announced (`announce`, after the write reached Redis) on one pub/sub channel, to which each
process keeps its own connection. Before trusting anything held,
a read takes in whatever has arrived there (a poll of the socket that does not wait) and drops
what it names. Redis writes a published message to every subscriber's socket before it answers
the publisher, so a request sent after a change's response finds the message waiting: a
revocation reaches every process at once, as it did through Redis itself.

Nothing is held while the subscription is not known to be working. A failed read of it drops
everything held (messages may have been lost), and it is tried again after a pause; a value read
from Redis while a message named its key is not kept (it may be older than the change); the age
limit bounds what a lost message could cost. Without a Redis cache (`make run`, LocMemCache)
there is nothing to share and `get_many` is the cache's own.
"""

import contextlib
import logging
import os
import threading
import time
from time import monotonic  # a name of this module, so that tests can move its clock

from django.conf import settings
from django.core.cache import cache, caches
from redis import Connection

from core.cache import RedisCache

logger = logging.getLogger(__name__)

CHANNEL = "near-cache:changed"
RECONNECT_PAUSE_SECONDS = 1.0
MAX_ENTRIES = 10_000
_ABSENT = object()


class _Subscription:
    """This process's connection to the channel and what it holds, by full cache key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.connection: Connection | None = None
        self.retry_at = 0.0
        self.entries: dict[str, tuple[float, object]] = {}
        # Numbers the messages taken in, and the last one that named each key: a value read before
        # a message named its key may be older than the change. What is older than
        # `forgotten_before` is no longer known, so nothing read before it is kept.
        self.messages = 0
        self.named_at: dict[str, int] = {}
        self.forgotten_before = 0

    def reset(self) -> None:
        with self.lock:
            self._close()
            self.retry_at = 0.0

    def _close(self) -> None:
        self.entries.clear()
        self.named_at.clear()
        self.messages += 1  # as if one message had named every key: what was read is not kept
        self.forgotten_before = self.messages
        if self.connection is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                self.connection.disconnect()
        self.connection = None

    def _connect(self) -> Connection:
        pool = cache._cache.get_client(write=False).connection_pool  # type: ignore[attr-defined]
        connection = Connection(**pool.connection_kwargs)
        connection.connect()
        connection.send_command("SUBSCRIBE", CHANNEL)
        confirmation = connection.read_response(push_request=True)
        if not confirmation or confirmation[0] not in (b"subscribe", "subscribe"):
            connection.disconnect()
            raise ConnectionError(f"unexpected answer to SUBSCRIBE: {confirmation!r}")
        self.connection = connection
        return connection

    def live(self) -> bool:
        """Take in the arrived messages; False if nothing held may be trusted now."""
        if self.pid != os.getpid():  # a forked worker: the parent's socket is not ours
            self.pid, self.connection, self.entries = os.getpid(), None, {}
        try:
            connection = self.connection
            if connection is None:
                if monotonic() < self.retry_at:
                    return False
                connection = self._connect()
            while connection.can_read(timeout=0):
                self._take(connection.read_response(push_request=True))
            return True
        except Exception:
            logger.warning("near cache: the change channel failed; holding nothing", exc_info=True)
            self._close()
            self.retry_at = monotonic() + RECONNECT_PAUSE_SECONDS
            return False

    def _take(self, message) -> None:
        kind, _, data = message
        if kind not in (b"message", "message"):
            return
        self.messages += 1
        for key in (data.decode() if isinstance(data, bytes) else data).split("\n"):
            self.entries.pop(key, None)
            self.named_at[key] = self.messages
        if len(self.named_at) > MAX_ENTRIES:
            self.named_at.clear()
            self.forgotten_before = self.messages

    def held(self, keys: list[str]) -> dict | None:
        now = monotonic()
        found = {}
        for key in keys:
            entry = self.entries.get(key)
            if entry is None or entry[0] <= now:
                return None
            if entry[1] is not _ABSENT:
                found[key] = entry[1]
        return found

    def hold(self, keys: list[str], values: dict[str, object], seen: int) -> None:
        """Keep what was read after message `seen` (absent keys as such), but not a key a message
        named since: it may have changed after it was read."""
        if not self.live() or seen < self.forgotten_before:
            return
        if len(self.entries) + len(keys) > MAX_ENTRIES:
            self.entries.clear()
        expires = monotonic() + settings.NEAR_CACHE_SECONDS
        for key in keys:
            if self.named_at.get(key, 0) <= seen:
                self.entries[key] = (expires, values.get(key, _ABSENT))


_subscription = _Subscription()


def _enabled() -> bool:
    return settings.NEAR_CACHE_SECONDS > 0 and isinstance(caches["default"], RedisCache)


def get_many(keys: list[str]) -> dict:
    """`cache.get_many(keys)`, answered from this process while it holds every one of `keys`.
    Raises what the cache raises when it must be asked."""
    if not _enabled():
        return cache.get_many(keys)
    full = {cache.make_key(key): key for key in keys}
    with _subscription.lock:
        live = _subscription.live()
        if live and (found := _subscription.held(list(full))) is not None:
            return {full[key]: value for key, value in found.items()}
        seen = _subscription.messages
    values = cache.get_many(keys)
    if live:
        with _subscription.lock:
            by_full_key = {cache.make_key(key): value for key, value in values.items()}
            _subscription.hold(list(full), by_full_key, seen)
    return values


def announce(keys) -> bool:
    """Call after writing `keys` to the cache: every process drops its copy (this one at once).
    False if the message could not be sent (logged): the other processes then hold their copies
    until NEAR_CACHE_SECONDS end, or drop them if they cannot reach Redis either."""
    full_keys = _forget_here(keys)
    if not full_keys:
        return True
    try:
        _client().publish(CHANNEL, "\n".join(full_keys))
    except Exception:
        logger.warning("near cache: could not announce a change", exc_info=True)
        return False
    return True


def delete_many(keys) -> None:
    """`cache.delete_many(keys)` and its announcement, in one round trip. Raises what the cache
    raises (then nothing may have been deleted, and nothing was announced)."""
    full_keys = _forget_here(keys)
    if not full_keys:
        cache.delete_many(keys)
        return
    pipeline = _client().pipeline(transaction=False)
    pipeline.delete(*full_keys)
    pipeline.publish(CHANNEL, "\n".join(full_keys))
    pipeline.execute()


def _forget_here(keys) -> list[str]:
    """The full keys to announce, dropped from this process at once; none without a near cache."""
    if not _enabled():
        return []
    full_keys = [cache.make_key(key) for key in keys]
    with _subscription.lock:
        for key in full_keys:
            _subscription.entries.pop(key, None)
    return full_keys


def _client():
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


# For answers kept under a version number that every change bumps (poll results, the catalogue):
# an entry is used only while the version it was made at (its "version") is the current one.


def versioned_entry(entry_key: str, version_key: str) -> tuple[dict | None, int | None]:
    """The entry kept at `entry_key` if it was made at the current version, and the current
    version. A missing version (never made, or lost) starts at the time in milliseconds, above
    any version an entry left from before could carry. Raises what the cache raises."""
    cached = get_many([entry_key, version_key])
    entry, version = cached.get(entry_key), cached.get(version_key)
    if entry is not None and version is not None and entry["version"] == version:
        return entry, version
    if version is None:
        if cache.add(version_key, time.time_ns() // 1_000_000, timeout=None):
            announce([version_key])
        version = cache.get(version_key)
    return None, version


# Raises the version only if there is one (a lost version restarts above every kept entry's, see
# versioned_entry) and announces the change: one round trip.
_BUMP = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCR', KEYS[1]) end
redis.call('PUBLISH', ARGV[1], KEYS[1])
"""


def version_bump(version_key: str) -> None:
    """After a committed change: every entry kept under `version_key` stops being used, in every
    process. A failure is logged: kept entries then outlive the change by their TTL at most."""
    try:
        if isinstance(caches["default"], RedisCache):
            _forget_here([version_key])
            _client().eval(_BUMP, 1, cache.make_key(version_key), CHANNEL)
        else:
            with contextlib.suppress(ValueError):  # no version: the next read starts one
                cache.incr(version_key)
    except Exception:
        logger.warning("could not bump %s", version_key, exc_info=True)


def reset() -> None:
    """Forget everything held and the connection (tests; a process after fork does it itself)."""
    _subscription.reset()

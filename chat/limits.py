"""Rates, as GCRA's one timestamp (the theoretical arrival time) per bucket.

- Messages per user, shared by every socket and REST on every instance (CHAT_MESSAGE_RATE per
  second, CHAT_MESSAGE_BURST at once): kept in the cache, updated atomically by a Lua script on
  Redis, under a lock in a per-process cache.
- Frames per socket, of every type (CHAT_FRAME_RATE, CHAT_FRAME_BURST): kept by the socket
  itself, which lives in one process.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache

# KEYS[1]: the user's theoretical arrival time; ARGV: now, emission interval, burst tolerance.
_GCRA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
local now = tonumber(ARGV[1])
if tat < now then tat = now end
local wait = tat - now - tonumber(ARGV[3])
if wait > 0 then return tostring(wait) end
local new_tat = tat + tonumber(ARGV[2])
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1000)
return '0'
"""
_local_lock = threading.Lock()
logger = logging.getLogger(__name__)


def _redis_client():
    client = getattr(cache, "_cache", None)
    get_client = getattr(client, "get_client", None)
    return get_client(write=True) if get_client else None


def message_allowance(user_id: int) -> float:
    """Takes one message from the user's bucket: 0.0 if allowed, else the seconds to wait.
    GCRA: a message is allowed while the theoretical arrival time is at most `tolerance` ahead
    of now, so CHAT_MESSAGE_BURST messages pass at once, then one per interval."""
    interval = 1.0 / settings.CHAT_MESSAGE_RATE
    tolerance = interval * (settings.CHAT_MESSAGE_BURST - 1)
    name = f"chat:rate:{user_id}"
    now = time.time()
    client = _redis_client()
    if client is not None:
        try:
            return float(client.eval(_GCRA, 1, cache.make_key(name), now, interval, tolerance))
        except Exception:
            # Redis away: the limit fails open rather than stopping every conversation.
            logger.warning("chat rate limit unavailable", exc_info=True)
            return 0.0
    with _local_lock:
        wait, new_tat = gcra(cache.get(name, now), now, interval, tolerance)
        if not wait:
            cache.set(name, new_tat, timeout=int(new_tat - now) + 2)
        return wait


def gcra(tat: float, now: float, interval: float, tolerance: float) -> tuple[float, float]:
    """(seconds to wait, or 0.0 if allowed; the theoretical arrival time after this call)."""
    tat = max(tat, now)
    wait = tat - now - tolerance
    if wait > 0:
        return wait, tat
    return 0.0, tat + interval


class FrameBudget:
    """One socket's frames: CHAT_FRAME_BURST at once, then CHAT_FRAME_RATE per second."""

    def __init__(self) -> None:
        self.interval = 1.0 / settings.CHAT_FRAME_RATE
        self.tolerance = self.interval * (settings.CHAT_FRAME_BURST - 1)
        self.tat = 0.0

    def take(self, now: float) -> float:
        """Takes one frame at `now` (monotonic seconds): 0.0 if allowed, else the seconds to
        wait."""
        wait, self.tat = gcra(self.tat, now, self.interval, self.tolerance)
        return wait

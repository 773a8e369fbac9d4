"""Per-session revocation as seen by every request: the cache in front, the database as truth.

A live session is cached with `add` (never overwriting) and a revoked one with `set`, so a
reader that loaded "live" just before a revocation cannot write it back over "revoked". If the
cache is unreachable, every check goes to the database.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

LIVE, REVOKED = "1", "0"


def _key(session_id) -> str:
    return f"auth:session:{session_id}"


def _ttl() -> int:
    # Once every access token of a session has expired, its cache entry is useless.
    return int(settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 60


def _database_says_live(session_id, user_id: int) -> bool:
    from accounts.models import AuthSession

    return AuthSession.objects.filter(
        pk=session_id, user_id=user_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


def session_is_live(session_id, user_id: int) -> bool:
    try:
        cached = cache.get(_key(session_id))
    except Exception:
        logger.warning("revocation cache unreachable; asking the database", exc_info=True)
        return _database_says_live(session_id, user_id)
    if cached is not None:
        return cached == LIVE
    live = _database_says_live(session_id, user_id)
    try:
        cache.add(_key(session_id), LIVE if live else REVOKED, timeout=_ttl())
    except Exception:
        logger.warning("revocation cache unreachable; not caching", exc_info=True)
    return live


def sessions_mark_revoked(session_ids: Iterable) -> None:
    """Call after the revocation is committed to the database."""
    keys = {_key(session_id): REVOKED for session_id in session_ids}
    if not keys:
        return
    try:
        cache.set_many(keys, timeout=_ttl())
    except Exception:
        # Readers fall back to the database while the cache is down; a stale "live" entry
        # could survive only if the cache comes back holding it, which the short TTL bounds.
        logger.error("could not mark sessions revoked in the cache", exc_info=True)

"""What every authenticated request needs, in one cache round trip: is the session live, and who
is the user. The database stays the source of truth; the cache only spares it.

- `auth:session:{sid}`: "1:{user id}" live for that user, or "0" revoked. A live verdict names
  its user, as the database check does: a token carrying a live sid and another user's id (signed
  with a leaked key) is refused from the cache too. It is cached with `add` (never overwriting)
  and a revocation with `set`, so a reader that loaded "live" just before a revocation cannot
  write it back over "revoked".
- `auth:user:{id}`: the user's row (password left out: it is loaded from the database only if
  something reads it), their team, and the fields other apps contribute to the caller's own user.
  Deleted after every change to the user or their team, and kept for a short TTL, which bounds how
  long a read racing a write can serve the old row.

If the cache is unreachable, every check goes to the database, and for a few seconds this process
stops asking it (so a frozen Redis costs one timeout, not one per call). A revocation written while
the cache is away cannot reach it: the "live" verdict it leaves behind expires after
AUTH_LIVE_VERDICT_SECONDS, which bounds how long such a token can outlive its logout.
"""

import logging
import threading
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from accounts.auth.state import auth_state
from accounts.models import AuthSession, CustomUser, Team
from accounts.registry import current_user_contributions
from core import near_cache

logger = logging.getLogger(__name__)

LIVE, REVOKED = "1", "0"
USER_SNAPSHOT_TTL = 120
CACHE_PAUSE_SECONDS = 5.0
REVOCATION_RETRY_SECONDS = 0.5
_USER_FIELDS = tuple(
    field.attname for field in CustomUser._meta.concrete_fields if field.name != "password"
)
_TEAM_FIELDS = tuple(field.attname for field in Team._meta.concrete_fields)


def _session_key(session_id) -> str:
    return f"auth:session:{session_id}"


def _user_key(user_id) -> str:
    return f"auth:user:{user_id}"


def _session_ttl() -> int:
    # Once every access token of a session has expired, its cache entry is useless.
    return int(settings.ACCESS_TOKEN_LIFETIME.total_seconds()) + 60


def _live_for(user_id: int) -> str:
    return f"{LIVE}:{user_id}"


def _verdict_ttl(verdict: str) -> int:
    return _session_ttl() if verdict == REVOKED else settings.AUTH_LIVE_VERDICT_SECONDS


# Made by the near cache itself: a read through it, and a delete announced in the same round trip.
NEAR_CACHE_CALLS = frozenset({"get_many", "delete_many"})


def _cache_call(method: str, *args, **kwargs):
    """`cache.<method>(...)`, or None if the cache fails (and for a pause after it failed).
    Every write is announced to the processes' near caches."""
    if time.monotonic() < auth_state.cache_paused_until:
        return None
    try:
        if method in NEAR_CACHE_CALLS:  # they announce their own writes
            return getattr(near_cache, method)(*args, **kwargs)
        result = getattr(cache, method)(*args, **kwargs)
    except Exception:
        auth_state.cache_paused_until = time.monotonic() + CACHE_PAUSE_SECONDS
        logger.warning("auth cache unreachable (%s); using the database", method, exc_info=True)
        return None
    if method != "add" or result:  # an add that found the key wrote nothing
        written = args[0]
        near_cache.announce([written] if isinstance(written, str) else list(written))
    return result


# --- Sessions -----------------------------------------------------------------------------------


def _database_says_live(session_id, user_id: int) -> bool:
    return AuthSession.objects.filter(
        pk=session_id, user_id=user_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).exists()


def _session_live(session_id, user_id: int, cached: str | None) -> bool:
    if cached == REVOKED:
        return False
    if cached is not None and cached != LIVE:  # bare "1": written before verdicts named a user
        return cached == _live_for(user_id)
    live = _database_says_live(session_id, user_id)
    _verdict_remember(session_id, user_id, live=live)
    return live


def _verdict_remember(session_id, user_id: int, *, live: bool) -> None:
    if live:
        verdict = _live_for(user_id)
    elif not AuthSession.objects.filter(
        pk=session_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).exists():
        verdict = REVOKED
    else:
        return  # live for its own user: a forgery naming someone else must not end it
    _cache_call("add", _session_key(session_id), verdict, timeout=_verdict_ttl(verdict))


def sessions_mark_revoked(session_ids: Iterable) -> None:
    """Call after the revocation is committed to the database."""
    keys = {_session_key(session_id): REVOKED for session_id in session_ids}
    if keys and _cache_call("set_many", keys, timeout=_session_ttl()) is None:
        near_cache.announce(keys)  # this process at least stops trusting its copies
        # Written as soon as the cache answers again: by this process's next request, or by a
        # background retry, so the other processes (which trust the cache) learn of it even if
        # this one serves nothing more. The "live" verdicts they overwrite expire within
        # AUTH_LIVE_VERDICT_SECONDS anyway.
        auth_state.revocations_not_cached.update(keys)
        _revocations_retry_start()


def _revocations_retry_start() -> None:
    with auth_state.revocations_retry_lock:
        thread = auth_state.revocations_retry_thread
        if thread is None or not thread.is_alive():
            thread = threading.Thread(
                target=_revocations_retry, name="auth-revocations-retry", daemon=True
            )
            auth_state.revocations_retry_thread = thread
            thread.start()


def _revocations_retry() -> None:
    """Off the request path, so it ignores the pause: a timeout here costs no request."""
    while auth_state.revocations_not_cached:
        time.sleep(REVOCATION_RETRY_SECONDS)
        if not _revocations_flush(despite_pause=True):
            logger.warning("auth cache still unreachable; revocations wait")


def _revocations_flush(*, despite_pause: bool = False) -> bool:
    """Write the revocations the cache missed; False if it still cannot be reached."""
    if not auth_state.revocations_not_cached:
        return True
    pending = dict(auth_state.revocations_not_cached)
    if despite_pause:
        try:
            cache.set_many(pending, timeout=_session_ttl())
        except Exception:
            return False
        near_cache.announce(pending)
    elif _cache_call("set_many", pending, timeout=_session_ttl()) is None:
        return False
    for key in pending:
        auth_state.revocations_not_cached.pop(key, None)
    return True


# --- Users --------------------------------------------------------------------------------------


def _user_snapshot(user: CustomUser) -> dict:
    team = user.team
    return {
        "user": [getattr(user, attname) for attname in _USER_FIELDS],
        "team": [getattr(team, attname) for attname in _TEAM_FIELDS] if team else None,
    }


def _user_from_snapshot(snapshot: dict) -> CustomUser:
    user = CustomUser.from_db("default", _USER_FIELDS, snapshot["user"])
    team = snapshot["team"]
    user.team = Team.from_db("default", _TEAM_FIELDS, team) if team else None
    return user


def users_forget(user_ids: Iterable[int]) -> None:
    """Drop cached users after their rows (or what is contributed to them) changed."""
    user_ids = list(user_ids)
    keys = [_user_key(user_id) for user_id in user_ids]
    keys += [_contributions_key(user_id) for user_id in user_ids]
    if keys:
        _cache_call("delete_many", keys)


# --- What other apps contribute to the caller's user ---------------------------------------------
# Kept apart from the row: a vote changes `voted_polls`, not the user, and authentication does not
# need them; they are computed on the first render that does (CurrentUserSerializer).


def _contributions_key(user_id) -> str:
    return f"auth:contributed:{user_id}"


def user_contributions(user: CustomUser) -> dict:
    """The registered contributions, from the cache when authentication brought them."""
    cached = getattr(user, "contributed", None)
    if cached is not None:
        return cached
    values = {name: resolve(user) for name, resolve in current_user_contributions()}
    _cache_call("add", _contributions_key(user.pk), values, timeout=USER_SNAPSHOT_TTL)
    return values


def user_contributions_forget_after_commit(user_ids: Iterable[int]) -> None:
    keys = [_contributions_key(user_id) for user_id in user_ids]
    transaction.on_commit(lambda: _cache_call("delete_many", keys))


def users_forget_after_commit(user_ids: Iterable[int]) -> None:
    """Forget now and again after commit: a read between the two may cache the old row."""
    user_ids = list(user_ids)
    users_forget(user_ids)
    transaction.on_commit(lambda: users_forget(user_ids))


# Signals, not calls in each service: the admin and every other save path change users too.
@receiver(post_save, sender=CustomUser)
@receiver(post_delete, sender=CustomUser)
def _user_changed(sender, instance: CustomUser, **kwargs) -> None:
    users_forget_after_commit([instance.pk])


@receiver(post_save, sender=Team)
@receiver(post_delete, sender=Team)
def _team_changed(sender, instance: Team, **kwargs) -> None:
    users_forget_after_commit(
        CustomUser.objects.filter(team_id=instance.pk).values_list("pk", flat=True)
    )


# --- Both at once -------------------------------------------------------------------------------


class SessionEnded(Exception):
    pass


def authenticated_user(*, session_id, user_id: int) -> CustomUser | None:
    """The user behind a live session (None if the user no longer exists); one cache round trip.

    Raises SessionEnded if the session is revoked or expired.
    """
    _revocations_flush()
    keys = [_session_key(session_id), _user_key(user_id), _contributions_key(user_id)]
    cached = _cache_call("get_many", keys) or {}
    verdict, snapshot = cached.get(keys[0]), cached.get(keys[1])
    user: CustomUser | None
    if verdict is None and snapshot is None:
        user = _cold_user(session_id, user_id)
    else:
        if not _session_live(session_id, user_id, verdict):
            raise SessionEnded
        if snapshot is not None:
            user = _user_from_snapshot(snapshot)
        else:
            user = CustomUser.objects.select_related("team").filter(pk=user_id).first()
            if user is not None:
                _cache_call("set", keys[1], _user_snapshot(user), timeout=USER_SNAPSHOT_TTL)
    if user is not None:
        user.contributed = cached.get(keys[2])
    return user


def session_started(*, session: AuthSession, user: CustomUser) -> None:
    """Warm the cache for the first authenticated request of a new login (after commit)."""

    def remember() -> None:
        verdict = _live_for(user.pk)
        _cache_call("add", _session_key(session.pk), verdict, timeout=_verdict_ttl(verdict))
        _cache_call("set", _user_key(user.pk), _user_snapshot(user), timeout=USER_SNAPSHOT_TTL)

    transaction.on_commit(remember)


def _cold_user(session_id, user_id: int) -> CustomUser:
    """Nothing cached: the session and its user in one query, and both remembered."""
    session = (
        AuthSession.objects.select_related("user__team")
        .filter(
            pk=session_id,
            user_id=user_id,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if session is None:
        _verdict_remember(session_id, user_id, live=False)
        raise SessionEnded
    _verdict_remember(session_id, user_id, live=True)
    _cache_call("set", _user_key(user_id), _user_snapshot(session.user), timeout=USER_SNAPSHOT_TTL)
    return session.user

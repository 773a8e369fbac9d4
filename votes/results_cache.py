"""Poll results served from the cache without going stale.

A per-poll version number lives in the cache, bumped after every committed change to the poll,
its candidates or its votes. Cached results carry the version they were computed at and are used
only while it is still the current one, so one round trip (MGET of both keys) answers a read and
every read sees every committed vote. A version is read before the database is, so results that
race a vote are stored under the older version and never served after it. Both keys are read
through the process's near cache (core.near_cache), so every write to them is announced.
"""

import logging

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core import near_cache
from votes.errors import ResultsHidden
from votes.models import Candidate, Poll, ResultsVisibility, Vote
from votes.selectors import STANDING
from votes.serializers import PollSerializer, ResultSerializer

logger = logging.getLogger(__name__)

RESULTS_TTL = 300


def _keys(poll_id: int) -> tuple[str, str]:
    return f"votes:results:{poll_id}", f"votes:results-version:{poll_id}"


def results_changed(poll_id: int) -> None:
    transaction.on_commit(lambda: near_cache.version_bump(_keys(poll_id)[1]))


@receiver(post_save, sender=Vote)
@receiver(post_delete, sender=Vote)
@receiver(post_save, sender=Candidate)
@receiver(post_delete, sender=Candidate)
def _candidates_changed(sender, instance, **kwargs) -> None:
    # Signals, so that the admin's edits count as well as the services'.
    results_changed(instance.poll_id)


@receiver(post_save, sender=Poll)
@receiver(post_delete, sender=Poll)
def _poll_changed(sender, instance: Poll, **kwargs) -> None:
    results_changed(instance.pk)


def _compute(poll_id: int, version: int | None) -> dict:
    poll = get_object_or_404(Poll, pk=poll_id)
    candidates = list(
        poll.candidates.filter(STANDING)
        .select_related("team")
        .order_by("-vote_count", "name", "id")
    )
    poll_data = PollSerializer(poll).data
    poll_data.pop("state")
    return {
        "version": version,
        "opens_at": poll.opens_at,
        "closes_at": poll.closes_at,
        "results_visibility": poll.results_visibility,
        "poll": poll_data,
        "total_votes": sum(candidate.vote_count for candidate in candidates),
        "candidates": ResultSerializer(candidates, many=True).data,
    }


def _entry(poll_id: int) -> dict:
    results_key, version_key = _keys(poll_id)
    try:
        kept, version = near_cache.versioned_entry(results_key, version_key)
        if kept is not None:
            return kept
    except Exception:
        logger.warning("results cache unreachable; reading the database", exc_info=True)
        return _compute(poll_id, None)
    entry = _compute(poll_id, version)
    if version is not None:
        try:
            cache.set(results_key, entry, timeout=RESULTS_TTL)
        except Exception:
            logger.warning("could not cache the results of poll %s", poll_id, exc_info=True)
        near_cache.announce([results_key])
    return entry


def poll_results_payload(*, poll_id: int, user) -> dict:
    """The body of GET /api/polls/{id}/results/ (ResultsSerializer's shape)."""
    entry = _entry(poll_id)
    now = timezone.now()
    closed = now >= entry["closes_at"]
    hidden = entry["results_visibility"] == ResultsVisibility.AFTER_CLOSE and not closed
    if hidden and not user.is_staff:
        raise ResultsHidden()
    state = "closed" if closed else ("open" if now >= entry["opens_at"] else "upcoming")
    return {
        "poll": {**entry["poll"], "state": state},
        "total_votes": entry["total_votes"],
        "candidates": entry["candidates"],
    }

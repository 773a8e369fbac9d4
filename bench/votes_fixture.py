"""The data votes.py and profile_votes.py measure against, prepared fast in the bench database.

A general poll with its candidates and votes bulk-created and every `vote_count` set to match; an
empty open poll to vote in; and voters, each with a session and an access token of their own.
"""

import json
import time
from dataclasses import dataclass

from bench import harness, load

RESULTS_TITLE = "Bench results poll"
VOTES_TITLE = "Bench votes poll"
VOTER_PREFIX = "bench-voter-"
USER_AGENT = "bench/votes.py"


def results_path(poll_id: int) -> str:
    return f"/api/polls/{poll_id}/results/"


def votes_path(poll_id: int) -> str:
    return f"/api/polls/{poll_id}/votes/"


@dataclass
class Fixture:
    results_poll_id: int
    # Candidate id -> votes, in the order the results endpoint must list them.
    results_counts: dict[int, int]
    votes_poll_id: int
    vote_candidate_ids: list[int]
    tokens: list[str]  # one per voter of the load, each used once
    probe_token: str  # the sanity check's voter, who votes before the load
    tokens_expire_at: float  # time.time() of the earliest expiry


def _voters(count: int) -> tuple[list, int]:
    """`count` bench users, created in bulk if missing (their password is unusable)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import CustomUser

    names = [f"{VOTER_PREFIX}{i:05d}" for i in range(count)]
    existing = set(
        CustomUser.objects.filter(username__startswith=VOTER_PREFIX).values_list(
            "username", flat=True
        )
    )
    unusable = make_password(None)  # one unusable value serves every voter: no login needed
    missing = [
        # bulk_create skips save(): the (ASCII, lowercase) canonical key is given as is.
        CustomUser(
            email=f"{name}@example.com", username=name, username_canonical=name, password=unusable
        )
        for name in names
        if name not in existing
    ]
    CustomUser.objects.bulk_create(missing, batch_size=2000)
    CustomUser.objects.filter(username__startswith=VOTER_PREFIX, is_active=False).update(
        is_active=True
    )
    users = CustomUser.objects.filter(username__startswith=VOTER_PREFIX).order_by("username")
    return list(users[:count]), len(missing)


def _vote_counts(total: int, candidates: int) -> list[int]:
    """Distinct counts summing to `total`, not in candidate order (so sorting is exercised)."""
    # 7 is coprime with 20: the weights are a permutation of 1..candidates.
    weights = [(7 * k) % candidates + 1 for k in range(candidates)]
    counts = [total * w // sum(weights) for w in weights]
    for k in sorted(range(candidates), key=lambda i: -weights[i])[: total - sum(counts)]:
        counts[k] += 1
    return counts


def _results_poll(voters: list, *, votes: int, candidates: int) -> tuple[int, dict[int, int]]:
    """A poll whose votes are bulk-created, with each candidate's vote_count set to match."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from votes.models import Candidate, Poll, PollKind, Vote

    now = timezone.now()
    with transaction.atomic():
        poll = Poll.objects.create(
            kind=PollKind.GENERAL,
            title=RESULTS_TITLE,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
        )
        rows = Candidate.objects.bulk_create(
            Candidate(poll=poll, name=f"Candidate {k + 1:02d}") for k in range(candidates)
        )
        counts = _vote_counts(votes, candidates)
        ballots, next_voter = [], iter(voters)
        for candidate, count in zip(rows, counts, strict=True):
            ballots.extend(
                Vote(poll=poll, candidate=candidate, voter=next(next_voter), cast_at=now)
                for _ in range(count)
            )
        Vote.objects.bulk_create(ballots, batch_size=2000)
        for candidate, count in zip(rows, counts, strict=True):
            Candidate.objects.filter(pk=candidate.pk).update(vote_count=count)
    ordered = sorted(zip(rows, counts, strict=True), key=lambda rc: (-rc[1], rc[0].name, rc[0].pk))
    return poll.pk, {candidate.pk: count for candidate, count in ordered}


def results_counts_check(poll_id: int, expected: dict[int, int]) -> tuple[bool, str]:
    """Stored vote_count per candidate against votes.selectors.vote_totals_by_aggregate."""
    from votes.models import Candidate, Poll
    from votes.selectors import vote_totals_by_aggregate

    stored = dict(Candidate.objects.filter(poll_id=poll_id).values_list("pk", "vote_count"))
    counted = vote_totals_by_aggregate(poll=Poll.objects.get(pk=poll_id))
    ok = stored == counted == expected
    return ok, (
        f"results poll #{poll_id}: {len(stored)} candidates, vote_count sum "
        f"{sum(stored.values())}, aggregate sum {sum(counted.values())}; every vote_count equals "
        f"its aggregate: {'yes' if stored == counted else 'NO'}"
    )


def django_prepare(*, voters: int, results_votes: int, results_candidates: int, choices: int):
    """Users, both polls and one session + access token per voter; returns the Fixture."""
    harness.django_setup()
    from datetime import timedelta

    from django.conf import settings
    from django.db import connections, transaction
    from django.utils import timezone

    from accounts.models import AuthSession, CustomUser
    from accounts.services import ClientInfo, auth_session_start
    from votes.models import Candidate, Poll, PollKind, Vote

    began = time.monotonic()
    Poll.objects.filter(title__in=(RESULTS_TITLE, VOTES_TITLE)).delete()
    users, created = _voters(max(voters + 1, results_votes))
    AuthSession.objects.filter(user__username__startswith=VOTER_PREFIX).delete()
    results_poll_id, results_counts = _results_poll(
        users[:results_votes], votes=results_votes, candidates=results_candidates
    )
    ok, message = results_counts_check(results_poll_id, results_counts)
    print(message)
    if not ok:
        raise RuntimeError("the prepared vote counts do not match the votes")

    now = timezone.now()
    votes_poll = Poll.objects.create(
        kind=PollKind.GENERAL,
        title=VOTES_TITLE,
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(hours=1),
    )
    choice_rows = Candidate.objects.bulk_create(
        Candidate(poll=votes_poll, name=f"Choice {k + 1}") for k in range(choices)
    )

    expires_at = time.time() + settings.ACCESS_TOKEN_LIFETIME.total_seconds()
    client = ClientInfo(user_agent=USER_AGENT, ip=load.HOST)
    # One transaction: a commit per session would dominate the preparation time.
    with transaction.atomic():
        tokens = [
            auth_session_start(user=user, client=client)[1].access for user in users[: voters + 1]
        ]
    harness.database_vacuum(
        [model._meta.db_table for model in (CustomUser, AuthSession, Poll, Candidate, Vote)]
    )
    print(
        f"prepared in {time.monotonic() - began:.1f} s: {len(users)} voters ({created} new), "
        f"{len(tokens)} sessions with access tokens, results poll #{results_poll_id} "
        f"({results_candidates} candidates, {results_votes} votes), empty votes poll "
        f"#{votes_poll.pk} ({choices} candidates)"
    )
    # The parent keeps no connection open while gunicorn and the load run.
    connections.close_all()
    return Fixture(
        results_poll_id=results_poll_id,
        results_counts=results_counts,
        votes_poll_id=votes_poll.pk,
        vote_candidate_ids=[row.pk for row in choice_rows],
        tokens=tokens[:voters],
        probe_token=tokens[voters],
        tokens_expire_at=expires_at,
    )


def ballots(fixture: Fixture) -> list[tuple[dict, bytes]]:
    """One request per voter: their token, and a candidate in turn."""
    ids = fixture.vote_candidate_ids
    return [
        (
            {"Authorization": f"Bearer {token}"},
            json.dumps({"candidate": ids[i % len(ids)]}).encode(),
        )
        for i, token in enumerate(fixture.tokens)
    ]

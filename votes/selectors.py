"""Reads of the voting domain; each runs a fixed number of queries."""

import functools

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import CustomUser
from core.serializers import MAX_ID
from votes.errors import BallotSecret, ResultsHidden
from votes.models import Ballot, Candidate, CandidateStatus, Poll, ResultsVisibility, Vote

STANDING = Q(status=CandidateStatus.STANDING)


def poll_list() -> QuerySet[Poll]:
    standing = Count("candidates", filter=Q(candidates__status=CandidateStatus.STANDING))
    return Poll.objects.annotate(candidate_count=standing).order_by("-opens_at", "id")


def polls_in_state(polls: QuerySet[Poll], *, state: str) -> QuerySet[Poll]:
    """upcoming: not open yet; open: voting now; closed: past closes_at."""
    now = timezone.now()
    if state == "open":
        return polls.filter(opens_at__lte=now, closes_at__gt=now)
    if state == "upcoming":
        return polls.filter(opens_at__gt=now)
    return polls.filter(closes_at__lte=now)


def poll_get(*, poll_id: int) -> Poll:
    return get_object_or_404(Poll, pk=poll_id)


def ballot_target(*, poll_id: int, candidate_id: int) -> Poll | None:
    """The poll, with only what a vote checks and `candidate_team_id`, if `candidate_id` stands in
    it; else None. Written by hand: the ORM took 0.7 ms to build and compile this query, more than
    all of a vote's statements take to run (bench/README.md, votes)."""
    if not (0 < poll_id <= MAX_ID and 0 < candidate_id <= MAX_ID):
        return None  # no row has it (and SQLite cannot even compare it)
    params = [candidate_id, poll_id, CandidateStatus.STANDING.value]
    return next(iter(Poll.objects.raw(_ballot_target_sql(), params)), None)


@functools.cache
def _ballot_target_sql() -> str:
    quote = connection.ops.quote_name
    polls, candidates = quote(Poll._meta.db_table), quote(Candidate._meta.db_table)
    # Table names from the models' meta, quoted; every value is a parameter.
    return (
        "SELECT p.id, p.kind, p.part, p.opens_at, p.closes_at, c.team_id AS candidate_team_id "  # noqa: S608
        f"FROM {candidates} c JOIN {polls} p ON p.id = c.poll_id "  # nosec B608
        "WHERE c.id = %s AND c.poll_id = %s AND c.status = %s"
    )


def poll_detail(*, poll_id: int, user: CustomUser | AnonymousUser) -> Poll:
    """The poll with its standing candidates (`candidate_list`) and the caller's vote
    (`my_vote`, None if none or anonymous)."""
    poll = poll_get(poll_id=poll_id)
    poll.candidate_list = poll_candidates(poll=poll)
    poll.my_vote = vote_of(poll=poll, user=user)
    return poll


def poll_candidates(*, poll: Poll) -> QuerySet[Candidate]:
    """The standing candidates: nominations nobody accepted yet are not public."""
    return poll.candidates.filter(STANDING).select_related("user", "team").order_by("name", "id")


def nominations_pending(*, user: CustomUser) -> QuerySet[Candidate]:
    """Nominations of the user that wait for their answer, in polls still taking candidates."""
    return (
        Candidate.objects.filter(
            user=user, status=CandidateStatus.NOMINATED, poll__closes_at__gt=timezone.now()
        )
        .select_related("poll", "user", "team")
        .order_by("-created_at", "id")
    )


def vote_of(*, poll: Poll, user: CustomUser | AnonymousUser) -> Vote | None:
    if not user.is_authenticated:
        return None
    return Vote.objects.filter(poll=poll, voter=user).first()


def voted_poll_ids(*, user: CustomUser) -> list[int]:
    return list(
        Vote.objects.filter(voter=user).order_by("poll_id").values_list("poll_id", flat=True)
    )


def results_visible_to(*, poll: Poll, user: CustomUser | AnonymousUser) -> bool:
    return poll.results_visibility == ResultsVisibility.ALWAYS or poll.has_closed() or user.is_staff


def candidate_voters(
    *, poll_id: int, candidate_id: int, user: CustomUser | AnonymousUser
) -> QuerySet[Vote]:
    """Staff always; everyone else only for a public ballot whose results are visible."""
    poll = poll_get(poll_id=poll_id)
    candidate = get_object_or_404(Candidate.objects.filter(STANDING), poll=poll, pk=candidate_id)
    if not user.is_staff:
        if poll.ballot != Ballot.PUBLIC:
            raise BallotSecret()
        if not results_visible_to(poll=poll, user=user):
            raise ResultsHidden()
    return candidate.votes.select_related("voter").order_by("cast_at", "id")


def vote_totals_by_aggregate(*, poll: Poll) -> dict[int, int]:
    """The counts recomputed from the votes themselves (audits and tests compare them)."""
    return dict(
        Candidate.objects.filter(poll=poll)
        .annotate(counted=Count("votes"))
        .values_list("pk", "counted")
    )

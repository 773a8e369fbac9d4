"""Exact under load: real threads, real PostgreSQL transactions and row locks."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import CommittingAPIClient, on_own_connection
from votes import selectors
from votes.models import Candidate, Vote
from votes.tests.factories import CandidateFactory, PollFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_concurrent_votes_by_one_user_store_exactly_one():
    poll = PollFactory()
    candidates = CandidateFactory.create_batch(5, poll=poll)
    access = client_for(UserFactory()).token_pair.access
    barrier = threading.Barrier(50)

    @on_own_connection
    def cast(n: int) -> tuple[int, str | None]:
        client = CommittingAPIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        barrier.wait()
        response = client.post(f"/api/polls/{poll.pk}/votes/", {"candidate": candidates[n % 5].pk})
        error = response.json().get("error") or {}
        return response.status_code, error.get("code")

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(cast, range(50)))

    statuses = [status for status, _code in outcomes]
    assert statuses.count(201) == 1
    assert statuses.count(409) == 49
    assert {code for status, code in outcomes if status == 409} == {"already_voted"}
    assert Vote.objects.count() == 1
    assert sum(Candidate.objects.values_list("vote_count", flat=True)) == 1


def test_two_hundred_distinct_voters_at_once_sum_to_exactly_two_hundred():
    poll = PollFactory()
    candidates = CandidateFactory.create_batch(4, poll=poll)
    clients = [client_for(user) for user in UserFactory.create_batch(200)]
    for client in clients:
        client.raise_request_exception = False

    @on_own_connection
    def cast(n: int) -> int:
        # Two of the four candidates are hot: their counter rows see most of the contention.
        response = clients[n].post(
            f"/api/polls/{poll.pk}/votes/", {"candidate": candidates[n % 2 if n % 5 else 3].pk}
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = list(pool.map(cast, range(200)))

    assert statuses.count(201) == 200, sorted(set(statuses))
    assert Vote.objects.filter(poll=poll).count() == 200
    stored = dict(Candidate.objects.filter(poll=poll).values_list("pk", "vote_count"))
    assert stored == selectors.vote_totals_by_aggregate(poll=poll)
    assert sum(stored.values()) == 200


def test_one_idempotency_key_sent_by_twenty_retries_at_once_votes_once_and_answers_alike():
    """The claim, the vote and the stored answer commit together: the duplicates wait for the
    first and replay its answer; none is told to come back later, none votes twice."""
    candidate = CandidateFactory()
    access = client_for(UserFactory()).token_pair.access
    barrier = threading.Barrier(20)

    @on_own_connection
    def cast(_n: int):
        client = CommittingAPIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        barrier.wait()
        response = client.post(
            f"/api/polls/{candidate.poll_id}/votes/",
            {"candidate": candidate.pk},
            HTTP_IDEMPOTENCY_KEY="retry-storm",
        )
        return response.status_code, response.json(), response.headers.get("Idempotent-Replayed")

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(cast, range(20)))

    assert {status for status, _body, _replayed in outcomes} == {201}
    assert all(body == outcomes[0][1] for _status, body, _replayed in outcomes)
    assert [replayed for _s, _b, replayed in outcomes].count("true") == 19
    assert Vote.objects.count() == 1
    assert Candidate.objects.get().vote_count == 1

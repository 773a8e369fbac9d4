"""A vote and its candidate's `vote_count` written together (core.inserts, count_in): PostgreSQL's
one statement, and the two statements in one transaction that SQLite (no INSERT inside WITH) uses,
both run on any database."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core.inserts import insert_unless_conflict
from votes.models import CandidateStatus, Vote
from votes.tests.factories import CandidateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["one statement", "two statements"])
def counted_path(request, monkeypatch):
    if request.param == "one statement" and connection.vendor != "postgresql":
        pytest.skip("a data-modifying WITH needs PostgreSQL")
    if request.param == "two statements":
        monkeypatch.setattr(connection, "vendor", "sqlite-like")
    return request.param


def a_vote(voter):
    candidate = CandidateFactory.create()
    return Vote(poll_id=candidate.poll_id, candidate=candidate, voter=voter)


def test_a_counted_row_raises_its_counter_in_one_statement_and_sends_its_signals(
    user, counted_path
):
    vote, saved = a_vote(user), []

    def receiver(sender, instance, created, **kwargs):
        saved.append((instance.pk, created))

    post_save.connect(receiver, sender=Vote)
    try:
        with CaptureQueriesContext(connection) as queries:
            assert insert_unless_conflict(vote, count_in=("candidate", "vote_count"))
    finally:
        post_save.disconnect(receiver, sender=Vote)
    vote.candidate.refresh_from_db()
    assert vote.candidate.vote_count == 1
    assert Vote.objects.get(pk=vote.pk).voter_id == user.pk
    assert saved == [(vote.pk, True)]
    if counted_path == "one statement":
        assert len(queries) == 1


def test_a_counted_row_that_conflicts_counts_nothing(user, counted_path):
    vote = a_vote(user)
    assert insert_unless_conflict(vote, count_in=("candidate", "vote_count"))
    again = Vote(poll_id=vote.poll_id, candidate=vote.candidate, voter=user)
    assert insert_unless_conflict(again, count_in=("candidate", "vote_count")) is False
    assert again.pk is None
    vote.candidate.refresh_from_db()
    assert vote.candidate.vote_count == 1
    assert Vote.objects.filter(poll_id=vote.poll_id).count() == 1


def test_a_counter_that_may_not_move_writes_neither_row(user, counted_path):
    """A nomination's vote_count must stay 0 (a check constraint): the vote goes too."""
    nominee = UserFactory.create()
    candidate = CandidateFactory.create(status=CandidateStatus.NOMINATED, user=nominee)
    vote = Vote(poll_id=candidate.poll_id, candidate=candidate, voter=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_unless_conflict(vote, count_in=("candidate", "vote_count"))
    assert not Vote.objects.filter(poll_id=candidate.poll_id).exists()
    candidate.refresh_from_db()
    assert candidate.vote_count == 0

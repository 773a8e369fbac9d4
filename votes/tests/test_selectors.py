"""The voting reads called directly, without HTTP: what a poll shows, and who sees results and
voters when."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from accounts.tests.factories import StaffFactory, UserFactory
from votes import selectors, services
from votes.errors import BallotSecret, ResultsHidden
from votes.models import Ballot, CandidateStatus, Poll, ResultsVisibility
from votes.results_cache import poll_results_payload
from votes.tests.factories import CandidateFactory, PollFactory, closed_window


def voted_poll(**fields):
    poll = PollFactory(**fields)
    candidate = CandidateFactory(poll=poll)
    voter = UserFactory()
    services.vote_cast(voter=voter, poll_id=poll.pk, candidate_id=candidate.pk)
    return poll, candidate, voter


@pytest.mark.django_db
class TestPollDetail:
    def test_the_detail_shows_standing_candidates_and_the_callers_vote(self):
        poll, candidate, voter = voted_poll()
        CandidateFactory(poll=poll, user=UserFactory(), status=CandidateStatus.NOMINATED)

        detail = selectors.poll_detail(poll_id=poll.pk, user=voter)

        assert list(detail.candidate_list) == [candidate]
        assert detail.my_vote.candidate == candidate
        assert selectors.poll_detail(poll_id=poll.pk, user=AnonymousUser()).my_vote is None

    def test_an_unknown_poll_is_404(self):
        with pytest.raises(Http404):
            selectors.poll_detail(poll_id=999999, user=AnonymousUser())


@pytest.mark.django_db
class TestCandidateVoters:
    def test_a_secret_ballot_shows_the_voters_to_staff_only(self):
        poll, candidate, voter = voted_poll(ballot=Ballot.SECRET)

        for user in (UserFactory(), voter, AnonymousUser()):
            with pytest.raises(BallotSecret):
                selectors.candidate_voters(poll_id=poll.pk, candidate_id=candidate.pk, user=user)
        votes = selectors.candidate_voters(
            poll_id=poll.pk, candidate_id=candidate.pk, user=StaffFactory()
        )
        assert [vote.voter for vote in votes] == [voter]

    def test_a_public_ballot_waits_for_visible_results(self):
        poll, candidate, voter = voted_poll(
            ballot=Ballot.PUBLIC, results_visibility=ResultsVisibility.AFTER_CLOSE
        )

        with pytest.raises(ResultsHidden):
            selectors.candidate_voters(
                poll_id=poll.pk, candidate_id=candidate.pk, user=AnonymousUser()
            )
        Poll.objects.filter(pk=poll.pk).update(**closed_window())
        votes = selectors.candidate_voters(
            poll_id=poll.pk, candidate_id=candidate.pk, user=AnonymousUser()
        )
        assert [vote.voter for vote in votes] == [voter]

    def test_a_nomination_or_another_polls_candidate_is_404_even_to_staff(self):
        poll, _candidate, _voter = voted_poll(ballot=Ballot.PUBLIC)
        nomination = CandidateFactory(
            poll=poll, user=UserFactory(), status=CandidateStatus.NOMINATED
        )

        for candidate_id in (nomination.pk, CandidateFactory().pk):
            with pytest.raises(Http404):
                selectors.candidate_voters(
                    poll_id=poll.pk, candidate_id=candidate_id, user=StaffFactory()
                )


@pytest.mark.django_db
class TestResults:
    def test_after_close_results_are_hidden_until_the_close_except_from_staff(self):
        poll, candidate, _voter = voted_poll(results_visibility=ResultsVisibility.AFTER_CLOSE)

        with pytest.raises(ResultsHidden):
            poll_results_payload(poll_id=poll.pk, user=UserFactory())
        for_staff = poll_results_payload(poll_id=poll.pk, user=StaffFactory())

        assert for_staff["total_votes"] == 1
        assert [c["id"] for c in for_staff["candidates"]] == [candidate.pk]

    def test_an_unknown_poll_is_404(self):
        with pytest.raises(Http404):
            poll_results_payload(poll_id=999999, user=AnonymousUser())

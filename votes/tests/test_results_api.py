"""Results and voters through the API (the voting section of API.md): exact counts, hidden until
the close where asked, served from the cache without going stale."""

import pytest

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from votes.models import Ballot, ResultsVisibility, Vote
from votes.tests.factories import (
    CandidateFactory,
    PollFactory,
    closed_window,
    team_candidate,
    team_poll,
    vote,
)


@pytest.mark.django_db
class TestResults:
    def test_results_sort_by_votes_then_name_with_exact_counts(self, api_client):
        poll = PollFactory()
        beta, alpha, gamma = (
            CandidateFactory(poll=poll, name=name) for name in ("Beta", "Alpha", "Gamma")
        )
        for candidate, voters in ((beta, 2), (alpha, 2), (gamma, 3)):
            for _ in range(voters):
                vote(client_for(UserFactory()), poll, candidate)
        body = api_client.get(f"/api/polls/{poll.pk}/results/").json()
        assert [(c["name"], c["votes"]) for c in body["candidates"]] == [
            ("Gamma", 3),
            ("Alpha", 2),
            ("Beta", 2),
        ]
        assert body["total_votes"] == 7
        assert body["poll"]["id"] == poll.pk

    def test_after_close_results_are_hidden_until_close_except_for_staff(
        self, api_client, staff_client, django_capture_on_commit_callbacks
    ):
        poll = PollFactory(results_visibility=ResultsVisibility.AFTER_CLOSE)
        assert_error_envelope(
            api_client.get(f"/api/polls/{poll.pk}/results/"), 403, "results_hidden"
        )
        assert staff_client.get(f"/api/polls/{poll.pk}/results/").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            for field, value in closed_window().items():
                setattr(poll, field, value)
            poll.save()
        assert api_client.get(f"/api/polls/{poll.pk}/results/").status_code == 200

    def test_results_of_20_candidates_run_a_fixed_number_of_queries(
        self, api_client, django_assert_num_queries
    ):
        poll = team_poll()
        for _ in range(20):
            team_candidate(poll)
        with django_assert_num_queries(2):
            body = api_client.get(f"/api/polls/{poll.pk}/results/").json()
        assert len(body["candidates"]) == 20


@pytest.mark.django_db
class TestResultsCache:
    def test_warm_results_run_no_query(self, api_client, django_assert_num_queries):
        poll = PollFactory()
        CandidateFactory.create_batch(3, poll=poll)
        api_client.get(f"/api/polls/{poll.pk}/results/")
        with django_assert_num_queries(0):
            response = api_client.get(f"/api/polls/{poll.pk}/results/")
        assert len(response.json()["candidates"]) == 3

    def test_every_committed_vote_and_candidate_shows_at_once(self, api_client, auth_client):
        poll = PollFactory()
        first = CandidateFactory(poll=poll, name="First")
        assert api_client.get(f"/api/polls/{poll.pk}/results/").json()["total_votes"] == 0
        vote(auth_client, poll, first)
        body = api_client.get(f"/api/polls/{poll.pk}/results/").json()
        assert (body["total_votes"], body["candidates"][0]["votes"]) == (1, 1)
        auth_client.post(f"/api/polls/{poll.pk}/candidates/", {"name": "Second"})
        names = [
            c["name"] for c in api_client.get(f"/api/polls/{poll.pk}/results/").json()["candidates"]
        ]
        assert names == ["First", "Second"]

    def test_the_cached_body_is_what_the_serializers_would_render(self, api_client):
        from votes.serializers import ResultsSerializer

        poll = team_poll()
        for _ in range(3):
            team_candidate(poll)
        api_client.get(f"/api/polls/{poll.pk}/results/")  # cached now
        cached = api_client.get(f"/api/polls/{poll.pk}/results/").json()
        candidates = list(poll.candidates.order_by("-vote_count", "name", "id"))
        expected = ResultsSerializer(
            {"poll": poll, "total_votes": 0, "candidates": candidates}
        ).data
        assert cached == api_client.get(f"/api/polls/{poll.pk}/results/").json()
        assert cached["candidates"] == expected["candidates"]
        assert cached["poll"] == {**expected["poll"]}

    def test_hiding_until_close_is_decided_per_request_from_the_cache(
        self, api_client, staff_client
    ):
        poll = PollFactory(results_visibility=ResultsVisibility.AFTER_CLOSE)
        assert staff_client.get(f"/api/polls/{poll.pk}/results/").status_code == 200  # cached
        assert_error_envelope(
            api_client.get(f"/api/polls/{poll.pk}/results/"), 403, "results_hidden"
        )


@pytest.mark.django_db
class TestVoters:
    def setup_voted_poll(self, ballot: str, **fields):
        poll = PollFactory(ballot=ballot, **fields)
        candidate = CandidateFactory(poll=poll)
        voters = UserFactory.create_batch(3)
        for voter in voters:
            vote(client_for(voter), poll, candidate)
        return poll, candidate, voters

    def url(self, poll, candidate) -> str:
        return f"/api/polls/{poll.pk}/candidates/{candidate.pk}/voters/"

    def test_staff_always_see_the_voters(self, staff_client):
        poll, candidate, voters = self.setup_voted_poll(Ballot.SECRET)
        body = staff_client.get(self.url(poll, candidate)).json()
        assert body["count"] == 3
        assert [v["voter"]["id"] for v in body["results"]] == [u.pk for u in voters]

    def test_a_secret_ballot_hides_the_voters_from_everyone_else(self, auth_client, api_client):
        poll, candidate, _voters = self.setup_voted_poll(Ballot.SECRET)
        for client in (auth_client, api_client):
            assert_error_envelope(client.get(self.url(poll, candidate)), 403, "ballot_secret")

    def test_a_public_ballot_shows_the_voters_to_anyone(self, api_client):
        poll, candidate, _voters = self.setup_voted_poll(Ballot.PUBLIC)
        assert api_client.get(self.url(poll, candidate)).json()["count"] == 3

    def test_a_public_ballot_with_hidden_results_waits_for_the_close(self, api_client):
        poll, candidate, _voters = self.setup_voted_poll(
            Ballot.PUBLIC, results_visibility=ResultsVisibility.AFTER_CLOSE
        )
        assert_error_envelope(api_client.get(self.url(poll, candidate)), 403, "results_hidden")

    def test_a_candidate_of_another_poll_is_404(self, staff_client):
        poll = PollFactory()
        other = CandidateFactory()
        assert_error_envelope(staff_client.get(self.url(poll, other)), 404)

    @pytest.mark.parametrize("count", [3, 30])
    def test_voters_run_a_fixed_number_of_queries(
        self, staff_client, django_assert_max_num_queries, count
    ):
        poll = PollFactory()
        candidate = CandidateFactory(poll=poll)
        for voter in UserFactory.create_batch(count):
            Vote.objects.create(poll=poll, candidate=candidate, voter=voter)
        # Authentication on a cold cache (3) + poll + candidate + count + page.
        with django_assert_max_num_queries(7):
            body = staff_client.get(self.url(poll, candidate), {"page_size": 100}).json()
        assert body["count"] == count

"""The voting section of API.md, endpoint by endpoint: status, body and the database after."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CustomUser, Team
from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, TeamFactory, UserFactory
from core.testing import assert_error_envelope
from votes.models import Ballot, Candidate, Poll, ResultsVisibility, Vote
from votes.tests.factories import (
    CandidateFactory,
    PollFactory,
    part_leader_poll,
    person_candidate,
    team_candidate,
    team_poll,
)


def closed_window() -> dict:
    now = timezone.now()
    return {"opens_at": now - timedelta(days=3), "closes_at": now - timedelta(days=1)}


def vote(client, poll, candidate, **headers):
    return client.post(f"/api/polls/{poll.pk}/votes/", {"candidate": candidate.pk}, **headers)


@pytest.mark.django_db
class TestTeams:
    def test_anyone_lists_teams_paginated(self, api_client):
        TeamFactory.create_batch(3)
        body = api_client.get("/api/teams/").json()
        assert body["count"] == 3
        assert {"id", "name", "description"} <= set(body["results"][0])

    def test_staff_create_a_team_and_a_duplicate_is_409(self, staff_client):
        response = staff_client.post("/api/teams/", {"name": "Rockets"})
        assert response.status_code == 201
        assert response.json()["name"] == "Rockets"
        duplicate = staff_client.post("/api/teams/", {"name": "Rockets"})
        assert_error_envelope(duplicate, 409, "team_exists")
        assert Team.objects.filter(name="Rockets").count() == 1

    def test_students_cannot_create_teams(self, auth_client, api_client):
        assert_error_envelope(auth_client.post("/api/teams/", {"name": "X"}), 403)
        assert_error_envelope(api_client.post("/api/teams/", {"name": "X"}), 401)
        assert not Team.objects.exists()


@pytest.mark.django_db
class TestPolls:
    def test_staff_create_a_poll(self, staff_client, staff):
        now = timezone.now()
        response = staff_client.post(
            "/api/polls/",
            {
                "kind": "part_leader",
                "title": "Backend lead",
                "part": "backend",
                "opens_at": now.isoformat(),
                "closes_at": (now + timedelta(days=3)).isoformat(),
                "results_visibility": "after_close",
                "ballot": "public",
            },
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["state"] == "open"
        poll = Poll.objects.get(pk=body["id"])
        assert (poll.kind, poll.part, poll.ballot, poll.created_by) == (
            "part_leader",
            "backend",
            "public",
            staff,
        )

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"closes_at": "2020-01-01T00:00:00Z"}, "closes_at"),
            ({"kind": "part_leader"}, "part"),
            ({"kind": "referendum"}, "kind"),
            ({"opens_at": "yesterday"}, "opens_at"),
            # Found by `make fuzz`: rendered in Seoul's 1900 offset, "+08:27:52", no date-time.
            ({"opens_at": "1900-01-01T00:00:00Z"}, "opens_at"),
            (
                {"opens_at": "1999-12-31T23:59:59Z", "closes_at": "1999-12-31T23:59:59.5Z"},
                "opens_at",
            ),
        ],
    )
    def test_bad_polls_are_400_and_nothing_is_written(self, staff_client, changes, field):
        body = {
            "kind": "general",
            "title": "Lunch",
            "opens_at": "2030-01-01T00:00:00Z",
            "closes_at": "2030-01-02T00:00:00Z",
            **changes,
        }
        error = assert_error_envelope(staff_client.post("/api/polls/", body), 400)
        assert field in error["fields"]
        assert not Poll.objects.exists()

    def test_students_cannot_create_polls(self, auth_client):
        response = auth_client.post("/api/polls/", {"kind": "general", "title": "x"})
        assert_error_envelope(response, 403, "permission_denied")

    def test_list_filters_by_state_and_kind(self, api_client):
        open_poll = PollFactory(title="open one")
        PollFactory(title="closed one", **closed_window())
        part_leader_poll(title="part one")
        open_titles = {
            p["title"] for p in api_client.get("/api/polls/", {"state": "open"}).json()["results"]
        }
        assert open_titles == {"open one", "part one"}
        closed = api_client.get("/api/polls/", {"state": "closed"}).json()["results"]
        assert [p["title"] for p in closed] == ["closed one"]
        kind = api_client.get("/api/polls/", {"kind": "part_leader"}).json()["results"]
        assert [p["title"] for p in kind] == ["part one"]
        assert open_poll.pk in {p["id"] for p in api_client.get("/api/polls/").json()["results"]}

    @pytest.mark.parametrize("count", [2, 25])
    def test_list_runs_a_fixed_number_of_queries(
        self, api_client, django_assert_max_num_queries, count
    ):
        for poll in PollFactory.create_batch(count):
            CandidateFactory.create_batch(2, poll=poll)
        with django_assert_max_num_queries(2):
            body = api_client.get("/api/polls/", {"page_size": 100}).json()
        assert body["count"] == count
        assert {p["candidate_count"] for p in body["results"]} == {2}

    def test_detail_shows_candidates_and_my_vote(self, user):
        poll = PollFactory()
        chosen, _other = CandidateFactory.create_batch(2, poll=poll)
        client = client_for(user)
        assert client.get(f"/api/polls/{poll.pk}/").json()["my_vote"] is None
        vote(client, poll, chosen)
        body = client.get(f"/api/polls/{poll.pk}/").json()
        assert body["my_vote"]["candidate"] == chosen.pk
        assert len(body["candidates"]) == 2
        assert {"id", "name", "pitch", "user", "team"} <= set(body["candidates"][0])
        assert "vote_count" not in body["candidates"][0]

    def test_detail_for_anonymous_has_no_vote_and_unknown_poll_is_404(self, api_client):
        poll = PollFactory()
        assert api_client.get(f"/api/polls/{poll.pk}/").json()["my_vote"] is None
        assert_error_envelope(api_client.get("/api/polls/999999/"), 404, "not_found")

    @pytest.mark.parametrize("size", [3, 20])
    def test_detail_runs_a_fixed_number_of_queries(
        self, auth_client, django_assert_max_num_queries, size
    ):
        poll = team_poll()
        for _ in range(size):
            team_candidate(poll)
        # Authentication on a cold cache (3) + poll + candidates + my vote.
        with django_assert_max_num_queries(6):
            response = auth_client.get(f"/api/polls/{poll.pk}/")
        assert len(response.json()["candidates"]) == size


@pytest.mark.django_db
class TestCandidates:
    def test_a_user_registers_a_candidate(self, auth_client, user):
        poll = PollFactory()
        response = auth_client.post(f"/api/polls/{poll.pk}/candidates/", {"name": "Tacos"})
        assert response.status_code == 201
        candidate = Candidate.objects.get()
        assert (candidate.name, candidate.registered_by) == ("Tacos", user)

    def test_a_duplicate_name_is_409_candidate_exists(self, auth_client):
        poll = PollFactory()
        CandidateFactory(poll=poll, name="Tacos")
        response = auth_client.post(f"/api/polls/{poll.pk}/candidates/", {"name": "tacos"})
        assert_error_envelope(response, 409, "candidate_exists")
        assert Candidate.objects.count() == 1

    def test_anonymous_registration_is_401(self, api_client):
        poll = PollFactory()
        response = api_client.post(f"/api/polls/{poll.pk}/candidates/", {"name": "Tacos"})
        assert_error_envelope(response, 401, "not_authenticated")

    def test_team_poll_takes_a_team_id(self, auth_client, user):
        poll = team_poll()
        team = TeamFactory(name="Rockets")
        user.team = team  # a member enters their team
        user.save()
        response = auth_client.post(f"/api/polls/{poll.pk}/candidates/", {"team": team.pk})
        assert response.status_code == 201
        assert response.json()["team"]["name"] == "Rockets"
        missing = auth_client.post(f"/api/polls/{poll.pk}/candidates/", {"team": 999999})
        assert "team" in assert_error_envelope(missing, 400)["fields"]

    def test_closed_poll_is_409_poll_closed(self, auth_client):
        poll = PollFactory(**closed_window())
        response = auth_client.post(f"/api/polls/{poll.pk}/candidates/", {"name": "Late"})
        assert_error_envelope(response, 409, "poll_closed")


@pytest.mark.django_db
class TestVoting:
    def test_a_vote_is_201_and_counted(self, auth_client, user):
        candidate = CandidateFactory()
        response = vote(auth_client, candidate.poll, candidate)
        assert response.status_code == 201
        assert response.json()["candidate"] == candidate.pk
        stored = Vote.objects.get()
        assert (stored.voter, stored.candidate, stored.ip) == (user, candidate, "127.0.0.1")

    def test_a_second_vote_is_409_already_voted(self, auth_client):
        poll = PollFactory()
        first, second = CandidateFactory.create_batch(2, poll=poll)
        vote(auth_client, poll, first)
        assert_error_envelope(vote(auth_client, poll, second), 409, "already_voted")
        assert Vote.objects.count() == 1

    def test_another_parts_member_is_403_not_eligible(self):
        poll = part_leader_poll("frontend")
        candidate = person_candidate(poll)
        client = client_for(UserFactory(part="backend"))
        assert_error_envelope(vote(client, poll, candidate), 403, "not_eligible")
        assert not Vote.objects.exists()

    def test_own_team_is_403_not_eligible(self):
        poll = team_poll()
        candidate = team_candidate(poll)
        client = client_for(UserFactory(team=candidate.team))
        assert_error_envelope(vote(client, poll, candidate), 403, "not_eligible")

    def test_a_closed_poll_is_409_poll_closed(self, auth_client):
        candidate = CandidateFactory(poll=PollFactory(**closed_window()))
        assert_error_envelope(vote(auth_client, candidate.poll, candidate), 409, "poll_closed")

    def test_anonymous_is_401(self, api_client):
        candidate = CandidateFactory()
        assert_error_envelope(vote(api_client, candidate.poll, candidate), 401)
        assert not Vote.objects.exists()

    @pytest.mark.parametrize(
        "body", [{}, {"candidate": "x"}, {"candidate": -1}, {"candidate": None}]
    )
    def test_bad_bodies_are_400(self, auth_client, body):
        poll = PollFactory()
        response = auth_client.post(f"/api/polls/{poll.pk}/votes/", body)
        assert "candidate" in assert_error_envelope(response, 400, "validation_error")["fields"]

    def test_a_candidate_of_another_poll_is_400(self, auth_client):
        poll = PollFactory()
        stranger = CandidateFactory()
        response = vote(auth_client, poll, stranger)
        assert "candidate" in assert_error_envelope(response, 400)["fields"]
        assert not Vote.objects.exists()


@pytest.mark.django_db
class TestIdempotency:
    def test_same_key_and_body_replays_the_first_response(self, auth_client):
        candidate = CandidateFactory()
        first = vote(auth_client, candidate.poll, candidate, HTTP_IDEMPOTENCY_KEY="k-1")
        again = vote(auth_client, candidate.poll, candidate, HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Vote.objects.count() == 1

    def test_same_key_with_another_body_is_409(self, auth_client):
        poll = PollFactory()
        first, second = CandidateFactory.create_batch(2, poll=poll)
        vote(auth_client, poll, first, HTTP_IDEMPOTENCY_KEY="k-2")
        response = vote(auth_client, poll, second, HTTP_IDEMPOTENCY_KEY="k-2")
        assert_error_envelope(response, 409, "idempotency_key_reused")

    def test_a_domain_error_is_replayed_too(self, auth_client):
        candidate = CandidateFactory(poll=PollFactory(**closed_window()))
        first = vote(auth_client, candidate.poll, candidate, HTTP_IDEMPOTENCY_KEY="k-3")
        again = vote(auth_client, candidate.poll, candidate, HTTP_IDEMPOTENCY_KEY="k-3")
        assert first.status_code == again.status_code == 409
        assert again.json() == first.json()

    def test_keys_belong_to_their_user(self, auth_client):
        candidate = CandidateFactory()
        vote(auth_client, candidate.poll, candidate, HTTP_IDEMPOTENCY_KEY="shared")
        other = client_for(UserFactory())
        response = vote(other, candidate.poll, candidate, HTTP_IDEMPOTENCY_KEY="shared")
        assert response.status_code == 201
        assert Vote.objects.count() == 2

    def test_an_over_long_key_is_400(self, auth_client):
        candidate = CandidateFactory()
        response = vote(auth_client, candidate.poll, candidate, HTTP_IDEMPOTENCY_KEY="k" * 256)
        assert_error_envelope(response, 400, "invalid_idempotency_key")
        assert not Vote.objects.exists()


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


@pytest.mark.django_db
class TestVotedPollsOnTheUser:
    def test_login_and_me_say_which_polls_the_user_voted_in(self, api_client, user):
        voted, _unvoted = PollFactory(), PollFactory()
        candidate = CandidateFactory(poll=voted)
        vote(client_for(user), voted, candidate)
        login = api_client.post(
            "/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD}
        )
        assert login.json()["user"]["voted_polls"] == [voted.pk]
        me = client_for(user).get("/api/users/me/").json()
        assert me["voted_polls"] == [voted.pk]

    def test_a_vote_shows_in_voted_polls_at_once_despite_the_auth_cache(self, user):
        client = client_for(user)
        assert client.get("/api/users/me/").json()["voted_polls"] == []  # now cached
        candidate = CandidateFactory()
        vote(client, candidate.poll, candidate)
        assert client.get("/api/users/me/").json()["voted_polls"] == [candidate.poll_id]

    def test_the_staff_user_list_does_not_carry_it(self, staff_client):
        body = staff_client.get("/api/users/").json()
        assert "voted_polls" not in body["results"][0]


@pytest.mark.django_db
def test_seed_demo_opens_polls_a_new_user_can_vote_in(api_client):
    from django.core.management import call_command

    call_command("seed_demo")
    call_command("seed_demo")
    assert Poll.objects.count() == 3
    demo_day = Poll.objects.get(kind="team")
    assert demo_day.candidates.count() == 5
    assert Poll.objects.get(part="frontend").candidates.count() == 1
    registered = api_client.post(
        "/api/auth/register/",
        {
            "email": "newbie@example.com",
            "username": "newbie",
            "password": "newbie-passphrase-1",
            "password_confirm": "newbie-passphrase-1",
        },
    ).json()
    staff = client_for(CustomUser.objects.get(email="admin@example.com"))
    placed = staff.patch(f"/api/users/{registered['user']['id']}/", {"part": "frontend"})
    assert placed.status_code == 200
    client = api_client
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {registered['access']}")
    frontend_poll = Poll.objects.get(part="frontend")
    for poll in (frontend_poll, demo_day):
        assert vote(client, poll, poll.candidates.first()).status_code == 201


@pytest.mark.django_db
def test_voting_errors_speak_korean_when_asked(auth_client):
    poll = PollFactory()
    candidate = CandidateFactory(poll=poll)
    vote(auth_client, poll, candidate)
    response = vote(auth_client, poll, candidate, HTTP_ACCEPT_LANGUAGE="ko")
    error = assert_error_envelope(response, 409, "already_voted")
    assert error["message"] == "이미 이 투표에 참여했습니다."


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

"""Polls, teams and candidates through the API (the voting section of API.md): status, body and
the database after."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Team
from accounts.testing import client_for
from accounts.tests.factories import TeamFactory
from core.testing import assert_error_envelope
from votes.models import Candidate, Poll
from votes.tests.factories import (
    CandidateFactory,
    PollFactory,
    closed_window,
    part_leader_poll,
    team_candidate,
    team_poll,
    vote,
)


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

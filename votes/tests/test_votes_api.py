"""Casting votes through the API (the voting section of API.md): one each, who may, replays with
an Idempotency-Key, and `voted_polls` on the user."""

import pytest

from accounts.models import CustomUser
from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from core.testing import assert_error_envelope
from votes.models import Poll, Vote
from votes.tests.factories import (
    CandidateFactory,
    PollFactory,
    closed_window,
    part_leader_poll,
    person_candidate,
    team_candidate,
    team_poll,
    vote,
)


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

    @pytest.mark.parametrize("poll_id", [0, 2**63 - 1, 2**63, 10**30])
    def test_a_poll_id_no_row_can_have_is_404_and_writes_nothing(self, auth_client, poll_id):
        candidate = CandidateFactory()
        body = {"candidate": candidate.pk}
        response = auth_client.post(f"/api/polls/{poll_id}/votes/", body, format="json")
        assert_error_envelope(response, 404, "not_found")
        assert not Vote.objects.exists()

    @pytest.mark.parametrize("candidate", [str(2**63), str(10**30), "1.5", "true", '"1e3"'])
    def test_a_candidate_that_is_no_row_id_is_400(self, auth_client, candidate):
        poll = PollFactory()
        body = f'{{"candidate": {candidate}}}'
        url = f"/api/polls/{poll.pk}/votes/"
        response = auth_client.post(url, body, content_type="application/json")
        assert "candidate" in assert_error_envelope(response, 400, "validation_error")["fields"]
        assert not Vote.objects.exists()

    @pytest.mark.parametrize("candidate", ["NaN", "Infinity", "-Infinity"])
    def test_a_candidate_that_is_not_json_is_a_parse_error(self, auth_client, candidate):
        poll = PollFactory()
        url = f"/api/polls/{poll.pk}/votes/"
        body = f'{{"candidate": {candidate}}}'
        response = auth_client.post(url, body, content_type="application/json")
        assert_error_envelope(response, 400, "parse_error")
        assert not Vote.objects.exists()

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

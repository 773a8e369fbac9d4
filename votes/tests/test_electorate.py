"""Who votes and who stands is not the voter's to change: parts and teams are placed by staff,
and nobody stands (or is pitched publicly) without their consent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TeamFactory, UserFactory
from core.testing import assert_error_envelope
from votes.models import Candidate, CandidateStatus, Vote
from votes.tests.factories import (
    CandidateFactory,
    part_leader_poll,
    person_candidate,
    team_candidate,
    team_poll,
)

PITCH = "Vote for me, I promise nothing."


def vote(client, poll, candidate):
    return client.post(f"/api/polls/{poll.pk}/votes/", {"candidate": candidate.pk}, format="json")


def nominate(client, poll, **body):
    return client.post(f"/api/polls/{poll.pk}/candidates/", body, format="json")


def public_candidate_ids(client, poll) -> set[int]:
    detail = client.get(f"/api/polls/{poll.pk}/").json()["candidates"]
    results = client.get(f"/api/polls/{poll.pk}/results/").json()["candidates"]
    assert {c["id"] for c in detail} == {c["id"] for c in results}
    return {c["id"] for c in detail}


# --- The electorate -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_voter_refused_by_a_part_poll_cannot_move_themselves_into_the_part():
    poll = part_leader_poll("frontend")
    candidate = person_candidate(poll)
    voter = UserFactory(part="backend")
    client = client_for(voter)
    assert_error_envelope(vote(client, poll, candidate), 403, "not_eligible")

    moved = client.patch("/api/users/me/", {"part": "frontend"}, format="json")

    assert_error_envelope(moved, 400, "validation_error")
    assert_error_envelope(vote(client, poll, candidate), 403, "not_eligible")
    voter.refresh_from_db()
    assert voter.part == "backend"
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_a_voter_cannot_leave_their_team_to_vote_for_it():
    poll = team_poll()
    own_team = TeamFactory()
    candidate = team_candidate(poll, own_team)
    voter = UserFactory(team=own_team)
    client = client_for(voter)
    assert_error_envelope(vote(client, poll, candidate), 403, "not_eligible")

    for body in ({"team": None}, {"team": TeamFactory().pk}):
        assert_error_envelope(client.patch("/api/users/me/", body, format="json"), 400)

    assert_error_envelope(vote(client, poll, candidate), 403, "not_eligible")
    assert not Vote.objects.exists()


@pytest.mark.django_db
def test_staff_placing_a_user_decides_their_eligibility_from_then_on():
    poll = part_leader_poll("frontend")
    candidate = person_candidate(poll)
    voter = UserFactory(part="backend")
    client = client_for(voter)
    staff = client_for(StaffFactory())

    placed = staff.patch(f"/api/users/{voter.pk}/", {"part": "frontend"}, format="json")

    assert placed.status_code == 200, placed.content
    assert vote(client, poll, candidate).status_code == 201


@pytest.mark.django_db
def test_a_student_cannot_place_anyone():
    other = UserFactory(part="backend")
    response = client_for(UserFactory()).patch(
        f"/api/users/{other.pk}/", {"part": "frontend"}, format="json"
    )
    assert_error_envelope(response, 403, "permission_denied")
    other.refresh_from_db()
    assert other.part == "backend"


# --- Consent to stand -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_nominating_someone_else_makes_a_private_nomination_that_takes_no_votes():
    poll = part_leader_poll("frontend")
    nominee = UserFactory(part="frontend")
    nominator = client_for(UserFactory(part="frontend"))

    response = nominate(nominator, poll, user=nominee.pk, pitch=PITCH)

    assert response.status_code == 201, response.content
    nomination = Candidate.objects.get(pk=response.json()["id"])
    assert (nomination.status, nomination.user_id) == (CandidateStatus.NOMINATED, nominee.pk)
    assert response.json()["status"] == "nominated"
    assert public_candidate_ids(nominator, poll) == set()
    assert nominator.get("/api/polls/").json()["results"][0]["candidate_count"] == 0
    voter = client_for(UserFactory(part="frontend"))
    assert_error_envelope(vote(voter, poll, nomination), 400, "validation_error")
    voters = client_for(StaffFactory()).get(
        f"/api/polls/{poll.pk}/candidates/{nomination.pk}/voters/"
    )
    assert_error_envelope(voters, 404, "not_found")


@pytest.mark.django_db
def test_the_nominee_sees_the_nomination_and_accepts_it_in_their_own_words():
    poll = part_leader_poll("frontend")
    nominee = UserFactory(part="frontend")
    nomination_id = nominate(client_for(UserFactory()), poll, user=nominee.pk, pitch=PITCH).json()[
        "id"
    ]
    client = client_for(nominee)

    pending = client.get("/api/me/nominations/").json()
    accepted = client.post(
        f"/api/polls/{poll.pk}/candidates/{nomination_id}/accept/",
        {"pitch": "My own words."},
        format="json",
    )

    assert [item["id"] for item in pending["results"]] == [nomination_id]
    assert pending["results"][0]["poll"]["id"] == poll.pk
    assert pending["results"][0]["pitch"] == PITCH
    assert accepted.status_code == 200, accepted.content
    assert (accepted.json()["status"], accepted.json()["pitch"]) == ("standing", "My own words.")
    assert public_candidate_ids(client, poll) == {nomination_id}
    assert client.get("/api/me/nominations/").json()["count"] == 0
    assert (
        vote(
            client_for(UserFactory(part="frontend")), poll, Candidate(pk=nomination_id)
        ).status_code
        == 201
    )


@pytest.mark.django_db
def test_a_declined_nomination_loses_its_pitch_and_cannot_be_made_again():
    poll = part_leader_poll("frontend")
    nominee = UserFactory(part="frontend")
    nominator = client_for(UserFactory())
    nomination_id = nominate(nominator, poll, user=nominee.pk, pitch=PITCH).json()["id"]

    declined = client_for(nominee).post(f"/api/polls/{poll.pk}/candidates/{nomination_id}/decline/")

    assert declined.status_code == 200, declined.content
    assert (declined.json()["status"], declined.json()["pitch"]) == ("declined", "")
    assert_error_envelope(nominate(nominator, poll, user=nominee.pk), 409, "candidate_exists")
    assert public_candidate_ids(nominator, poll) == set()


@pytest.mark.django_db
def test_a_standing_candidate_cannot_decline_away_their_votes():
    poll = part_leader_poll("frontend")
    standing = person_candidate(poll)
    client = client_for(standing.user)
    assert vote(client, poll, standing).status_code == 201

    response = client.post(f"/api/polls/{poll.pk}/candidates/{standing.pk}/decline/")

    assert_error_envelope(response, 409, "nomination_answered")
    standing.refresh_from_db()
    assert (standing.status, standing.vote_count) == (CandidateStatus.STANDING, 1)


@pytest.mark.django_db
def test_a_nominee_who_stands_after_all_keeps_one_candidacy():
    poll = part_leader_poll("frontend")
    nominee = UserFactory(part="frontend")
    nominate(client_for(UserFactory()), poll, user=nominee.pk, pitch=PITCH)

    own = nominate(client_for(nominee), poll, pitch="Standing myself.")

    assert own.status_code == 201, own.content
    assert (own.json()["status"], own.json()["pitch"]) == ("standing", "Standing myself.")
    assert Candidate.objects.filter(poll=poll, user=nominee).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["accept", "decline"])
def test_only_the_nominee_answers_a_nomination(action):
    poll = part_leader_poll("frontend")
    nominee = UserFactory(part="frontend")
    nominator = client_for(UserFactory(part="frontend"))
    nomination_id = nominate(nominator, poll, user=nominee.pk, pitch=PITCH).json()["id"]
    standing = person_candidate(poll)

    for client in (nominator, client_for(StaffFactory())):
        for target in (nomination_id, standing.pk):
            response = client.post(f"/api/polls/{poll.pk}/candidates/{target}/{action}/")
            assert_error_envelope(response, 404, "not_found")
    assert Candidate.objects.get(pk=nomination_id).status == CandidateStatus.NOMINATED


@pytest.mark.django_db
def test_nominating_someone_of_another_part_reveals_nothing_about_their_part():
    """The nominator gets the same answer whatever the nominee's part; only the nominee, asked
    to accept, is told they cannot stand."""
    poll = part_leader_poll("frontend")
    in_part, out_of_part = UserFactory(part="frontend"), UserFactory(part="design")
    nominator = client_for(UserFactory(part="frontend"))

    answers = [nominate(nominator, poll, user=person.pk) for person in (in_part, out_of_part)]

    assert [answer.status_code for answer in answers] == [201, 201]
    varying = ("id", "name", "user", "created_at")
    shapes = [{k: v for k, v in a.json().items() if k not in varying} for a in answers]
    assert shapes[0] == shapes[1]
    assert all("part" not in answer.json()["user"] for answer in answers)
    refused = client_for(out_of_part).post(
        f"/api/polls/{poll.pk}/candidates/{answers[1].json()['id']}/accept/"
    )
    assert_error_envelope(refused, 403, "not_eligible")
    assert Candidate.objects.get(pk=answers[1].json()["id"]).status == CandidateStatus.NOMINATED


@pytest.mark.django_db
def test_staff_register_another_person_as_standing():
    poll = part_leader_poll("frontend")
    person = UserFactory(part="frontend")

    response = nominate(client_for(StaffFactory()), poll, user=person.pk, pitch="Organiser's pick")

    assert response.status_code == 201
    assert response.json()["status"] == "standing"


@pytest.mark.django_db
def test_a_team_is_entered_by_its_members_only():
    poll = team_poll()
    team = TeamFactory()
    outsider = client_for(UserFactory(team=TeamFactory()))

    refused = nominate(outsider, poll, team=team.pk, pitch="Their pitch, written by a rival")
    member = nominate(client_for(UserFactory(team=team)), poll, team=team.pk)

    assert_error_envelope(refused, 403, "not_team_member")
    assert member.status_code == 201
    assert Candidate.objects.filter(poll=poll).count() == 1


@pytest.mark.django_db
def test_accepting_after_the_poll_closed_is_refused():
    poll = part_leader_poll("frontend")
    nominee = UserFactory(part="frontend")
    nomination = CandidateFactory(
        poll=poll, user=nominee, status=CandidateStatus.NOMINATED, registered_by=UserFactory()
    )
    poll.opens_at, poll.closes_at = timezone.now() - timedelta(days=2), timezone.now()
    poll.save()

    response = client_for(nominee).post(f"/api/polls/{poll.pk}/candidates/{nomination.pk}/accept/")

    assert_error_envelope(response, 409, "poll_closed")

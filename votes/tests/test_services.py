"""The voting rules, called directly: eligibility, windows, one vote each, exact counts."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import TeamFactory, UserFactory
from core.exceptions import ApplicationError
from votes import selectors, services
from votes.errors import NominationAnswered, NotEligible, NotTeamMember, PollClosed
from votes.models import Candidate, CandidateStatus, Poll, PollKind, Vote
from votes.tests.factories import (
    CandidateFactory,
    PollFactory,
    closed_window,
    part_leader_poll,
    person_candidate,
    team_candidate,
    team_poll,
)


def error_code(call) -> str:
    with pytest.raises(ApplicationError) as caught:
        call()
    return caught.value.code


@pytest.mark.django_db
class TestVoteCast:
    def test_a_vote_is_stored_and_counted(self):
        candidate = CandidateFactory()
        voter = UserFactory()
        vote = services.vote_cast(
            voter=voter, poll_id=candidate.poll_id, candidate_id=candidate.pk, ip="10.0.0.9"
        )
        assert (vote.poll_id, vote.candidate_id, vote.voter_id, vote.ip) == (
            candidate.poll_id,
            candidate.pk,
            voter.pk,
            "10.0.0.9",
        )
        candidate.refresh_from_db()
        assert candidate.vote_count == 1

    def test_a_second_vote_in_the_same_poll_is_already_voted_even_for_another_candidate(self):
        first, second = CandidateFactory.create_batch(2, poll=PollFactory())
        voter = UserFactory()
        services.vote_cast(voter=voter, poll_id=first.poll_id, candidate_id=first.pk)
        code = error_code(
            lambda: services.vote_cast(voter=voter, poll_id=first.poll_id, candidate_id=second.pk)
        )
        assert code == "already_voted"
        assert Vote.objects.count() == 1
        second.refresh_from_db()
        assert second.vote_count == 0

    def test_the_database_refuses_a_second_vote_without_the_service(self):
        candidate = CandidateFactory()
        voter = UserFactory()
        Vote.objects.create(poll=candidate.poll, candidate=candidate, voter=voter)
        with pytest.raises(IntegrityError):
            Vote.objects.create(poll=candidate.poll, candidate=candidate, voter=voter)

    @pytest.mark.parametrize(
        ("opens_in", "closes_in"),
        [(timedelta(hours=1), timedelta(days=1)), (-timedelta(days=2), -timedelta(seconds=1))],
        ids=["not-open-yet", "closed"],
    )
    def test_voting_outside_the_window_is_poll_closed(self, opens_in, closes_in):
        now = timezone.now()
        candidate = CandidateFactory(
            poll=PollFactory(opens_at=now + opens_in, closes_at=now + closes_in)
        )
        code = error_code(
            lambda: services.vote_cast(
                voter=UserFactory(), poll_id=candidate.poll_id, candidate_id=candidate.pk
            )
        )
        assert code == "poll_closed"
        assert not Vote.objects.exists()

    def test_a_candidate_of_another_poll_is_refused(self):
        poll = PollFactory()
        stranger = CandidateFactory()
        with pytest.raises(ValidationError) as caught:
            services.vote_cast(voter=UserFactory(), poll_id=poll.pk, candidate_id=stranger.pk)
        assert "candidate" in caught.value.message_dict
        assert not Vote.objects.exists()

    def test_only_members_of_the_part_vote_for_its_leader(self):
        poll = part_leader_poll("frontend")
        candidate = person_candidate(poll)
        code = error_code(
            lambda: services.vote_cast(
                voter=UserFactory(part="backend"), poll_id=poll.pk, candidate_id=candidate.pk
            )
        )
        assert code == "not_eligible"
        services.vote_cast(
            voter=UserFactory(part="frontend"), poll_id=poll.pk, candidate_id=candidate.pk
        )
        assert Vote.objects.count() == 1

    def test_nobody_votes_for_their_own_team(self):
        poll = team_poll()
        own, other = TeamFactory(), TeamFactory()
        own_candidate, other_candidate = team_candidate(poll, own), team_candidate(poll, other)
        member = UserFactory(team=own)
        code = error_code(
            lambda: services.vote_cast(voter=member, poll_id=poll.pk, candidate_id=own_candidate.pk)
        )
        assert code == "not_eligible"
        services.vote_cast(voter=member, poll_id=poll.pk, candidate_id=other_candidate.pk)
        services.vote_cast(
            voter=UserFactory(team=None), poll_id=poll.pk, candidate_id=own_candidate.pk
        )
        assert Vote.objects.count() == 2

    def test_counters_always_match_the_votes_themselves(self):
        poll = PollFactory()
        candidates = CandidateFactory.create_batch(3, poll=poll)
        for n in range(10):
            services.vote_cast(
                voter=UserFactory(), poll_id=poll.pk, candidate_id=candidates[n % 3].pk
            )
        counted = selectors.vote_totals_by_aggregate(poll=poll)
        stored = dict(Candidate.objects.filter(poll=poll).values_list("pk", "vote_count"))
        assert stored == counted == {candidates[0].pk: 4, candidates[1].pk: 3, candidates[2].pk: 3}

    @pytest.mark.parametrize("status", [CandidateStatus.NOMINATED, CandidateStatus.DECLINED])
    def test_a_nomination_not_standing_takes_no_vote(self, status):
        candidate = CandidateFactory(status=status, user=UserFactory())
        with pytest.raises(ValidationError) as caught:
            services.vote_cast(
                voter=UserFactory(), poll_id=candidate.poll_id, candidate_id=candidate.pk
            )
        assert "candidate" in caught.value.message_dict
        assert not Vote.objects.exists()

    def test_a_poll_that_does_not_exist_is_404_whatever_the_candidate(self):
        candidate = CandidateFactory()
        with pytest.raises(Http404):
            services.vote_cast(voter=UserFactory(), poll_id=10**9, candidate_id=candidate.pk)

    @pytest.mark.skipif("connection.vendor != 'postgresql'", reason="one statement on PostgreSQL")
    def test_a_vote_is_two_statements_and_opens_no_transaction_of_its_own(self, monkeypatch):
        """The poll and candidate in one hand-written read; the vote and its count in one write,
        which outside a request's transaction commits by itself (no BEGIN, no COMMIT)."""
        candidate, voter = CandidateFactory(), UserFactory()
        opened, enter = [], transaction.Atomic.__enter__
        monkeypatch.setattr(
            transaction.Atomic, "__enter__", lambda self: opened.append(self) or enter(self)
        )
        with CaptureQueriesContext(connection) as queries:
            services.vote_cast(voter=voter, poll_id=candidate.poll_id, candidate_id=candidate.pk)
        assert (len(queries), opened) == (2, [])


@pytest.mark.django_db
class TestCandidateRegister:
    def test_a_part_member_stands_in_a_part_leader_poll_by_default_as_themself(self):
        poll = part_leader_poll("backend")
        member = UserFactory(part="backend", name="Kim")
        candidate = services.candidate_register(registered_by=member, poll=poll)
        assert (candidate.user, candidate.name, candidate.team) == (member, "Kim", None)

    def test_someone_of_another_part_cannot_stand(self):
        poll = part_leader_poll("backend")
        with pytest.raises(ValidationError) as caught:
            services.candidate_register(registered_by=UserFactory(part="frontend"), poll=poll)
        assert "user" in caught.value.message_dict
        assert not Candidate.objects.exists()

    def test_team_polls_take_teams(self):
        poll = team_poll()
        team = TeamFactory(name="Rockets")
        candidate = services.candidate_register(
            registered_by=UserFactory(team=team), poll=poll, team=team
        )
        assert (candidate.team, candidate.name, candidate.user) == (team, "Rockets", None)
        with pytest.raises(ValidationError):
            services.candidate_register(registered_by=UserFactory(), poll=poll, name="No team")

    def test_general_polls_need_a_name(self):
        with pytest.raises(ValidationError):
            services.candidate_register(registered_by=UserFactory(), poll=PollFactory())

    @pytest.mark.parametrize("name", ["Pizza", "pizza", "PIZZA"])
    def test_names_are_unique_within_a_poll_ignoring_case(self, name):
        poll = PollFactory()
        services.candidate_register(registered_by=UserFactory(), poll=poll, name="Pizza")
        code = error_code(
            lambda: services.candidate_register(registered_by=UserFactory(), poll=poll, name=name)
        )
        assert code == "candidate_exists"
        assert Candidate.objects.count() == 1
        services.candidate_register(registered_by=UserFactory(), poll=PollFactory(), name=name)

    def test_the_same_team_cannot_stand_twice(self):
        poll = team_poll()
        team = TeamFactory()
        services.candidate_register(registered_by=UserFactory(team=team), poll=poll, team=team)
        code = error_code(
            lambda: services.candidate_register(
                registered_by=UserFactory(team=team), poll=poll, team=team, name="Other name"
            )
        )
        assert code == "candidate_exists"

    def test_a_closed_poll_takes_no_candidates(self):
        poll = PollFactory(
            opens_at=timezone.now() - timedelta(days=2),
            closes_at=timezone.now() - timedelta(days=1),
        )
        code = error_code(
            lambda: services.candidate_register(registered_by=UserFactory(), poll=poll, name="X")
        )
        assert code == "poll_closed"

    def test_a_team_is_entered_by_its_members_or_staff_only(self):
        poll, team = team_poll(), TeamFactory()

        with pytest.raises(NotTeamMember):
            services.candidate_register(
                registered_by=UserFactory(team=TeamFactory()), poll=poll, team=team
            )
        assert not Candidate.objects.exists()
        entered = services.candidate_register(
            registered_by=UserFactory(is_staff=True), poll=poll, team=team
        )
        assert (entered.team, entered.status) == (team, CandidateStatus.STANDING)

    def test_naming_another_person_is_a_nomination_and_staff_naming_them_is_standing(self):
        poll = part_leader_poll("frontend")
        nominee, other = UserFactory(part="frontend"), UserFactory(part="frontend")

        nomination = services.candidate_register(
            registered_by=UserFactory(part="design"), poll=poll, user=nominee
        )
        standing = services.candidate_register(
            registered_by=UserFactory(is_staff=True), poll=poll, user=other
        )

        assert (nomination.user, nomination.status) == (nominee, CandidateStatus.NOMINATED)
        assert (standing.user, standing.status) == (other, CandidateStatus.STANDING)


def nomination_of(user, poll=None, pitch: str = "Their words.") -> Candidate:
    poll = poll or part_leader_poll(user.part or "frontend")
    return CandidateFactory.create(
        poll=poll, user=user, pitch=pitch, status=CandidateStatus.NOMINATED, registered_by=None
    )


@pytest.mark.django_db
class TestNominationAnswers:
    def test_the_nominee_accepts_in_their_own_words(self):
        nominee = UserFactory(part="frontend")
        nomination = nomination_of(nominee)

        accepted = services.nomination_accept(
            user=nominee, poll=nomination.poll, candidate_id=nomination.pk, pitch="Mine."
        )

        nomination.refresh_from_db()
        assert accepted == nomination
        assert (nomination.status, nomination.pitch) == (CandidateStatus.STANDING, "Mine.")

    def test_a_nominee_of_another_part_is_not_eligible_and_stays_nominated(self):
        nominee = UserFactory(part="design")
        nomination = nomination_of(nominee, part_leader_poll("frontend"))

        with pytest.raises(NotEligible) as raised:
            services.nomination_accept(
                user=nominee, poll=nomination.poll, candidate_id=nomination.pk
            )

        assert str(raised.value.message) == "Only members of this poll's part can stand."
        nomination.refresh_from_db()
        assert nomination.status == CandidateStatus.NOMINATED

    def test_accepting_in_a_closed_poll_is_poll_closed(self):
        nominee = UserFactory(part="frontend")
        nomination = nomination_of(nominee, part_leader_poll("frontend", **closed_window()))

        with pytest.raises(PollClosed):
            services.nomination_accept(
                user=nominee, poll=nomination.poll, candidate_id=nomination.pk
            )

    @pytest.mark.parametrize("answer", ["accept", "decline"])
    def test_someone_elses_nomination_or_one_in_another_poll_is_404(self, answer):
        nominee = UserFactory(part="frontend")
        nomination = nomination_of(nominee)
        answer_of = getattr(services, f"nomination_{answer}")

        for user, poll in (
            (UserFactory(part="frontend", is_staff=True), nomination.poll),
            (nominee, part_leader_poll("frontend")),
        ):
            with pytest.raises(Http404):
                answer_of(user=user, poll=poll, candidate_id=nomination.pk)
        nomination.refresh_from_db()
        assert nomination.status == CandidateStatus.NOMINATED

    def test_declining_drops_the_nominators_pitch(self):
        nominee = UserFactory(part="frontend")
        nomination = nomination_of(nominee)

        services.nomination_decline(user=nominee, poll=nomination.poll, candidate_id=nomination.pk)

        nomination.refresh_from_db()
        assert (nomination.status, nomination.pitch) == (CandidateStatus.DECLINED, "")

    def test_a_standing_candidate_cannot_decline(self):
        standing = person_candidate(part_leader_poll("frontend"))

        with pytest.raises(NominationAnswered):
            services.nomination_decline(
                user=standing.user, poll=standing.poll, candidate_id=standing.pk
            )

        standing.refresh_from_db()
        assert standing.status == CandidateStatus.STANDING


@pytest.mark.django_db
class TestPollCreate:
    def test_a_poll_must_close_after_it_opens(self):
        now = timezone.now()
        with pytest.raises(ValidationError) as caught:
            services.poll_create(
                created_by=UserFactory(), kind=PollKind.GENERAL, title="t", opens_at=now,
                closes_at=now,
            )  # fmt: skip
        assert "closes_at" in caught.value.message_dict
        assert not Poll.objects.exists()

    def test_a_part_leader_poll_needs_a_part_and_others_have_none(self):
        now = timezone.now()
        window = {"opens_at": now, "closes_at": now + timedelta(days=1)}
        with pytest.raises(ValidationError):
            services.poll_create(
                created_by=UserFactory(), kind=PollKind.PART_LEADER, title="t", **window
            )
        general = services.poll_create(
            created_by=UserFactory(), kind=PollKind.GENERAL, title="t", part="backend", **window
        )
        assert general.part == ""

    def test_the_database_refuses_a_part_on_a_general_poll(self):
        with pytest.raises(IntegrityError):
            PollFactory(kind=PollKind.GENERAL, part="backend")

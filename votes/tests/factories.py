from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import TeamFactory, UserFactory
from votes.models import Candidate, Poll, PollKind


class PollFactory(factory.django.DjangoModelFactory[Poll]):
    """Open now, for a week."""

    class Meta:
        model = Poll

    kind = PollKind.GENERAL
    title = factory.Sequence(lambda n: f"Poll {n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class CandidateFactory(factory.django.DjangoModelFactory[Candidate]):
    class Meta:
        model = Candidate

    poll = factory.SubFactory(PollFactory)
    name = factory.Sequence(lambda n: f"Candidate {n}")


def part_leader_poll(part: str = "frontend", **fields) -> Poll:
    return PollFactory.create(kind=PollKind.PART_LEADER, part=part, **fields)


def team_poll(**fields) -> Poll:
    return PollFactory.create(kind=PollKind.TEAM, **fields)


def team_candidate(poll: Poll, team=None) -> Candidate:
    team = team or TeamFactory()
    return CandidateFactory.create(poll=poll, team=team, name=team.name)


def person_candidate(poll: Poll, user=None) -> Candidate:
    user = user or UserFactory(part=poll.part)
    return CandidateFactory.create(poll=poll, user=user, name=user.name or user.username)


def closed_window() -> dict:
    now = timezone.now()
    return {"opens_at": now - timedelta(days=3), "closes_at": now - timedelta(days=1)}


def vote(client, poll, candidate, **headers):
    """POST /api/polls/{id}/votes/ for `candidate` as `client`."""
    return client.post(f"/api/polls/{poll.pk}/votes/", {"candidate": candidate.pk}, **headers)

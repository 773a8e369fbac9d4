"""Writes of the voting domain: polls, candidacies and votes."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from accounts.auth_cache import user_contributions_forget_after_commit
from accounts.models import CustomUser, Team
from core.exceptions import ApplicationError
from votes.models import Candidate, Poll, PollKind, Vote


def poll_closed() -> ApplicationError:
    return ApplicationError(
        "poll_closed", _("This poll is not open for voting now."), status.HTTP_409_CONFLICT
    )


def not_eligible(message) -> ApplicationError:
    return ApplicationError("not_eligible", message, status.HTTP_403_FORBIDDEN)


def poll_create(
    *,
    created_by: CustomUser,
    kind: str,
    title: str,
    opens_at,
    closes_at,
    part: str = "",
    description: str = "",
    results_visibility: str = "always",
    ballot: str = "secret",
) -> Poll:
    poll = Poll(
        kind=kind,
        title=title,
        description=description,
        part=part if kind == PollKind.PART_LEADER else "",
        opens_at=opens_at,
        closes_at=closes_at,
        results_visibility=results_visibility,
        ballot=ballot,
        created_by=created_by,
    )
    errors = {}
    if closes_at <= opens_at:
        errors["closes_at"] = [_("A poll must close after it opens.")]
    if kind == PollKind.PART_LEADER and not part:
        errors["part"] = [_("A part-leader poll needs a part.")]
    if errors:
        raise ValidationError(errors)
    poll.save()
    return poll


def candidate_register(
    *,
    registered_by: CustomUser,
    poll: Poll,
    name: str = "",
    pitch: str = "",
    user: CustomUser | None = None,
    team: Team | None = None,
) -> Candidate:
    """Who may stand depends on the poll: a member of its part, a team, or anyone by name."""
    if poll.has_closed():
        raise poll_closed()
    if poll.kind == PollKind.PART_LEADER:
        user = user or registered_by
        if user.part != poll.part:
            raise ValidationError({"user": [_("Only members of this poll's part can stand.")]})
        name, team = name or user.name or user.username, None
    elif poll.kind == PollKind.TEAM:
        if team is None:
            raise ValidationError({"team": [_("A team poll's candidates are teams.")]})
        name, user = name or team.name, None
    else:
        if not name:
            raise ValidationError({"name": [_("This field is required.")]})
        user = team = None
    try:
        with transaction.atomic():
            return Candidate.objects.create(
                poll=poll, name=name, pitch=pitch, user=user, team=team, registered_by=registered_by
            )
    except IntegrityError:
        raise ApplicationError(
            "candidate_exists",
            _("This candidate is already registered in this poll."),
            status.HTTP_409_CONFLICT,
        ) from None


def _eligibility_check(*, poll: Poll, candidate: Candidate, voter: CustomUser) -> None:
    if poll.kind == PollKind.PART_LEADER and voter.part != poll.part:
        raise not_eligible(_("Only members of this poll's part can vote in it."))
    if poll.kind == PollKind.TEAM and voter.team_id and voter.team_id == candidate.team_id:
        raise not_eligible(_("You cannot vote for your own team."))


def vote_cast(*, voter: CustomUser, poll_id: int, candidate_id: int, ip: str | None = None) -> Vote:
    """One vote per voter per poll, enforced by a unique constraint; the count moves with F()."""
    candidate = (
        Candidate.objects.select_related("poll").filter(pk=candidate_id, poll_id=poll_id).first()
    )
    if candidate is None:
        get_object_or_404(Poll, pk=poll_id)
        raise ValidationError({"candidate": [_("No such candidate in this poll.")]})
    poll = candidate.poll
    if not poll.is_open():
        raise poll_closed()
    _eligibility_check(poll=poll, candidate=candidate, voter=voter)
    try:
        with transaction.atomic():
            vote = Vote.objects.create(poll=poll, candidate=candidate, voter=voter, ip=ip)
            Candidate.objects.filter(pk=candidate.pk).update(vote_count=F("vote_count") + 1)
            user_contributions_forget_after_commit([voter.pk])  # `voted_polls` changed
    except IntegrityError:
        if not Vote.objects.filter(poll=poll, voter=voter).exists():
            raise
        raise ApplicationError(
            "already_voted", _("You have already voted in this poll."), status.HTTP_409_CONFLICT
        ) from None
    return vote

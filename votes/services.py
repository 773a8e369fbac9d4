"""Writes of the voting domain: polls, candidacies and votes."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from accounts.models import CustomUser, Team
from accounts.registry import current_user_contributions_changed
from core.inserts import insert_unless_conflict
from votes import selectors
from votes.errors import (
    AlreadyVoted,
    CandidateExists,
    NominationAnswered,
    NotEligible,
    NotTeamMember,
    PollClosed,
)
from votes.models import Candidate, CandidateStatus, Poll, PollKind, Vote


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
    """Who may stand depends on the poll: a member of its part, a team, or anyone by name.

    People stand by their own consent: registering yourself (or staff registering anyone) makes
    a standing candidate; nominating another person makes a nomination they accept or decline
    (nomination_accept), and whether they may stand is checked then, so the nominator learns
    nothing of their part. A team is registered by one of its members, or by staff.
    """
    if poll.has_closed():
        raise PollClosed()
    status_ = CandidateStatus.STANDING
    if poll.kind == PollKind.PART_LEADER:
        user = user or registered_by
        if user.pk != registered_by.pk and not registered_by.is_staff:
            status_ = CandidateStatus.NOMINATED
        elif user.part != poll.part:
            raise ValidationError({"user": [_("Only members of this poll's part can stand.")]})
        name, team = name or user.name or user.username, None
    elif poll.kind == PollKind.TEAM:
        if team is None:
            raise ValidationError({"team": [_("A team poll's candidates are teams.")]})
        if not registered_by.is_staff and registered_by.team_id != team.pk:
            raise NotTeamMember()
        name, user = name or team.name, None
    else:
        if not name:
            raise ValidationError({"name": [_("This field is required.")]})
        user = team = None
    if user is not None and user.pk == registered_by.pk:
        revived = _own_nomination_take_up(poll=poll, user=user, pitch=pitch)
        if revived is not None:
            return revived
    try:
        with transaction.atomic():
            return Candidate.objects.create(
                poll=poll,
                name=name,
                pitch=pitch,
                user=user,
                team=team,
                registered_by=registered_by,
                status=status_,
            )
    except IntegrityError:
        raise CandidateExists() from None


def _own_nomination_take_up(*, poll: Poll, user: CustomUser, pitch: str) -> Candidate | None:
    """Standing yourself after someone nominated you (or after you declined): the same row."""
    nomination = Candidate.objects.filter(poll=poll, user=user).exclude(
        status=CandidateStatus.STANDING
    )
    if not nomination.exists():
        return None
    return nomination_accept(user=user, poll=poll, candidate_id=nomination.get().pk, pitch=pitch)


def _nomination_get_for_update(*, user: CustomUser, poll: Poll, candidate_id: int) -> Candidate:
    """The caller's own nomination, locked; anyone else's is a 404."""
    candidate = (
        Candidate.objects.select_for_update().filter(pk=candidate_id, poll=poll, user=user).first()
    )
    if candidate is None:
        raise Http404
    return candidate


def nomination_accept(
    *, user: CustomUser, poll: Poll, candidate_id: int, pitch: str | None = None
) -> Candidate:
    """The nominee agrees to stand (optionally in their own words); idempotent."""
    if poll.has_closed():
        raise PollClosed()
    with transaction.atomic():
        candidate = _nomination_get_for_update(user=user, poll=poll, candidate_id=candidate_id)
        if poll.kind == PollKind.PART_LEADER and user.part != poll.part:
            raise NotEligible(_("Only members of this poll's part can stand."))
        fields = ["status", "updated_at"]
        candidate.status = CandidateStatus.STANDING
        if pitch:
            candidate.pitch = pitch
            fields.append("pitch")
        candidate.save(update_fields=fields)
    return candidate


def nomination_decline(*, user: CustomUser, poll: Poll, candidate_id: int) -> Candidate:
    """The nominee refuses; the nominator's pitch about them is dropped. A standing candidate
    (who already has votes) cannot withdraw this way."""
    with transaction.atomic():
        candidate = _nomination_get_for_update(user=user, poll=poll, candidate_id=candidate_id)
        if candidate.status == CandidateStatus.STANDING:
            raise NominationAnswered()
        candidate.status, candidate.pitch = CandidateStatus.DECLINED, ""
        candidate.save(update_fields=["status", "pitch", "updated_at"])
    return candidate


def _eligibility_check(*, poll: Poll, candidate_team_id: int | None, voter: CustomUser) -> None:
    if poll.kind == PollKind.PART_LEADER and voter.part != poll.part:
        raise NotEligible()
    if poll.kind == PollKind.TEAM and voter.team_id and voter.team_id == candidate_team_id:
        raise NotEligible(_("You cannot vote for your own team."))


def vote_cast(*, voter: CustomUser, poll_id: int, candidate_id: int, ip: str | None = None) -> Vote:
    """One vote per voter per poll, enforced by a unique constraint. The vote and its candidate's
    `vote_count` are written by one statement, so they commit together and, outside a request's
    transaction, in one round trip (core.inserts)."""
    poll = selectors.ballot_target(poll_id=poll_id, candidate_id=candidate_id)
    if poll is None:
        get_object_or_404(Poll, pk=poll_id)
        raise ValidationError({"candidate": [_("No such candidate in this poll.")]})
    if not poll.is_open():
        raise PollClosed()
    _eligibility_check(poll=poll, candidate_team_id=poll.candidate_team_id, voter=voter)
    vote = Vote(poll=poll, candidate_id=candidate_id, voter=voter, ip=ip)
    if not insert_unless_conflict(vote, count_in=("candidate", "vote_count")):
        raise AlreadyVoted()
    current_user_contributions_changed([voter.pk])  # `voted_polls` changed
    return vote

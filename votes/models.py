"""Polls, their candidates and the votes cast in them."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Part, Team
from core.models import TimeStampedModel


class PollKind(models.TextChoices):
    PART_LEADER = "part_leader", _("Part leader")
    TEAM = "team", _("Team")
    GENERAL = "general", _("General")


class ResultsVisibility(models.TextChoices):
    ALWAYS = "always", _("Always")
    AFTER_CLOSE = "after_close", _("After the poll closes")


class Ballot(models.TextChoices):
    SECRET = "secret", _("Secret")
    PUBLIC = "public", _("Public")


class Poll(TimeStampedModel):
    kind = models.CharField(_("kind"), max_length=12, choices=PollKind.choices)
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True, max_length=5000)
    part = models.CharField(
        _("part"),
        max_length=10,
        choices=Part.choices,
        blank=True,
        help_text=_("Part-leader polls only: the part whose members stand and vote."),
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    results_visibility = models.CharField(
        max_length=12, choices=ResultsVisibility.choices, default=ResultsVisibility.ALWAYS
    )
    ballot = models.CharField(max_length=6, choices=Ballot.choices, default=Ballot.SECRET)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Not fields: set by selectors.poll_detail (the standing candidates, the caller's vote).
    candidate_list: "models.QuerySet[Candidate]"
    my_vote: "Vote | None"
    # Not a field: set by selectors.ballot_target (the team of the candidate a vote is for).
    candidate_team_id: int | None

    class Meta:
        ordering = ("-opens_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="poll_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=PollKind.PART_LEADER, part__in=Part.values)
                | (~models.Q(kind=PollKind.PART_LEADER) & models.Q(part="")),
                name="poll_part_only_for_part_leader",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=PollKind.values), name="poll_kind_valid"
            ),
        ]
        indexes = [models.Index(fields=("opens_at", "closes_at"))]

    def __str__(self) -> str:
        return self.title

    def is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.opens_at <= at < self.closes_at

    def has_closed(self, at=None) -> bool:
        return (at or timezone.now()) >= self.closes_at


class CandidateStatus(models.TextChoices):
    STANDING = "standing", _("Standing")
    NOMINATED = "nominated", _("Nominated, awaiting the person's consent")
    DECLINED = "declined", _("Declined by the person")


class Candidate(TimeStampedModel):
    """Standing candidates are public and receive votes. A person nominated by someone else
    (not staff) stands only once they accept: nobody stands, or is pitched publicly, without
    their consent."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="candidates")
    name = models.CharField(_("name"), max_length=80)
    pitch = models.TextField(_("pitch"), blank=True, max_length=2000)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="candidacies",
        help_text=_("The person standing (part-leader polls)."),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="candidacies",
        help_text=_("The team standing (team polls)."),
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CandidateStatus.choices,
        default=CandidateStatus.STANDING,
    )
    # Kept equal to the number of this candidate's votes by the same transaction that stores a
    # vote (F() update), so results read one row per candidate instead of counting votes.
    vote_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint("poll", Lower("name"), name="candidate_name_unique_in_poll"),
            models.UniqueConstraint(
                fields=("poll", "user"),
                condition=models.Q(user__isnull=False),
                name="candidate_user_unique_in_poll",
            ),
            models.UniqueConstraint(
                fields=("poll", "team"),
                condition=models.Q(team__isnull=False),
                name="candidate_team_unique_in_poll",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=CandidateStatus.values), name="candidate_status_valid"
            ),
            # Only a person can be nominated: teams and names stand when registered.
            models.CheckConstraint(
                condition=models.Q(status=CandidateStatus.STANDING) | models.Q(user__isnull=False),
                name="candidate_nominee_is_a_person",
            ),
            # A vote goes to a standing candidate only, so others have none.
            models.CheckConstraint(
                condition=models.Q(status=CandidateStatus.STANDING) | models.Q(vote_count=0),
                name="candidate_votes_only_when_standing",
            ),
        ]
        indexes = [models.Index(fields=("poll", "-vote_count", "name"))]

    def __str__(self) -> str:
        return self.name


class Vote(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes"
    )
    cast_at = models.DateTimeField(default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ("cast_at", "id")
        constraints = [
            models.UniqueConstraint(fields=("poll", "voter"), name="one_vote_per_voter_per_poll")
        ]
        indexes = [models.Index(fields=("candidate", "cast_at"))]

    def __str__(self) -> str:
        return f"{self.voter_id} -> {self.candidate_id}"

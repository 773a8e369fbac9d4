"""The rules of voting: who may stand and vote, when, and what the results show."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError


class PollClosed(ApplicationError):
    """Before `opens_at` or from `closes_at` on (candidacies: only from `closes_at` on)."""

    code = "poll_closed"
    status = status.HTTP_409_CONFLICT
    message = _("This poll is not open for voting now.")


class NotEligible(ApplicationError):
    """Another part's poll (to vote in or to stand in), or a vote for one's own team: the
    message says which."""

    code = "not_eligible"
    status = status.HTTP_403_FORBIDDEN
    message = _("Only members of this poll's part can vote in it.")


class NotTeamMember(ApplicationError):
    code = "not_team_member"
    status = status.HTTP_403_FORBIDDEN
    message = _("Only a member of this team (or staff) can enter it in a poll.")


class CandidateExists(ApplicationError):
    """The same name (ignoring case), person or team in the same poll, whatever its status."""

    code = "candidate_exists"
    status = status.HTTP_409_CONFLICT
    message = _("This candidate is already registered in this poll.")


class NominationAnswered(ApplicationError):
    """A standing candidate (who may have votes) cannot decline."""

    code = "nomination_answered"
    status = status.HTTP_409_CONFLICT
    message = _("You already stand in this poll.")


class AlreadyVoted(ApplicationError):
    code = "already_voted"
    status = status.HTTP_409_CONFLICT
    message = _("You have already voted in this poll.")


class ResultsHidden(ApplicationError):
    """An `after_close` poll before it closes; staff always see."""

    code = "results_hidden"
    status = status.HTTP_403_FORBIDDEN
    message = _("The results of this poll are shown after it closes.")


class BallotSecret(ApplicationError):
    """Who voted for whom is shown to staff, and on a public ballot to anyone once the results
    are visible."""

    code = "ballot_secret"
    status = status.HTTP_403_FORBIDDEN
    message = _("This poll has a secret ballot: who voted for whom is not shown.")

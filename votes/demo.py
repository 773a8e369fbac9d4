"""Demo polls (loaded by `manage.py seed_demo` after the demo accounts): a part-leader poll per
part with a candidate each, and a demo-day poll of the five demo teams, open for 30 days."""

from datetime import timedelta

from django.utils import timezone

from accounts.demo import DEMO_TEAMS
from accounts.models import CustomUser, Part, Team
from votes.models import Ballot, Candidate, Poll, PollKind

PART_CANDIDATES = {Part.FRONTEND: "student1@example.com", Part.BACKEND: "student2@example.com"}
DEMO_DAY_TITLE = "Demo day: best team"


def _poll(*, title: str, **fields) -> Poll:
    now = timezone.now()
    defaults = {"opens_at": now - timedelta(days=1), "closes_at": now + timedelta(days=30)}
    return Poll.objects.get_or_create(title=title, defaults={**defaults, **fields})[0]


def load(*, stdout, style) -> None:
    for part, email in PART_CANDIDATES.items():
        poll = _poll(
            title=f"{part.label} part leader",
            kind=PollKind.PART_LEADER,
            part=part,
            description=f"Choose the leader of the {part.label} part.",
        )
        person = CustomUser.objects.get(email=email)
        Candidate.objects.get_or_create(poll=poll, user=person, defaults={"name": person.name})
    demo_day = _poll(
        title=DEMO_DAY_TITLE,
        kind=PollKind.TEAM,
        ballot=Ballot.PUBLIC,
        description="Vote for the best demo; not for your own team.",
    )
    for team in Team.objects.filter(name__in=DEMO_TEAMS):
        Candidate.objects.get_or_create(poll=demo_day, team=team, defaults={"name": team.name})
    stdout.write(style.SUCCESS("Demo polls: Frontend/Backend part leader, " + DEMO_DAY_TITLE))

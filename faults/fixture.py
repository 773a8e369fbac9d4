"""The data the faults run against, prepared in this process with Django in the private database:
an open poll with voters that each hold an access token, published courses with buyers that each
hold one, and an account with a password for the Redis scenario.
"""

import os
import uuid
from dataclasses import dataclass

from faults.load import Ballot, Buyer

ACCOUNT_EMAIL = "faults-account@example.com"
ACCOUNT_PASSWORD = "faults-pass-1234"
COURSES = 10
COURSE_PRICE = 30_000
CANDIDATES = 4


@dataclass
class Fixture:
    poll_id: int
    ballots: list  # one Ballot per voter, each handed out once
    buyers: list  # one Buyer each, handed out once

    def take_ballots(self, count: int) -> list:
        taken, self.ballots = self.ballots[:count], self.ballots[count:]
        if len(taken) < count:
            raise RuntimeError(f"only {len(taken)} voters left, {count} needed")
        return taken

    def take_buyers(self, count: int) -> list:
        taken, self.buyers = self.buyers[:count], self.buyers[count:]
        if len(taken) < count:
            raise RuntimeError(f"only {len(taken)} buyers left, {count} needed")
        return taken


def django_setup(env: dict) -> None:
    """Django in this process, on the stack's database, cache and settings."""
    os.environ.update(env)
    import django

    django.setup()


def _users(prefix: str, count: int) -> list:
    from django.contrib.auth.hashers import make_password

    from accounts.models import CustomUser

    unusable = make_password(None)  # no login needed: each gets a session directly
    CustomUser.objects.bulk_create(
        # bulk_create skips save(): the (ASCII, lowercase) canonical key is given as is.
        CustomUser(
            email=f"{prefix}{i}@example.com",
            username=f"{prefix}{i}",
            username_canonical=f"{prefix}{i}",
            password=unusable,
        )
        for i in range(count)
    )
    return list(CustomUser.objects.filter(username__startswith=prefix).order_by("pk"))


def prepare(*, voters: int, buyers: int) -> Fixture:
    from datetime import timedelta

    from django.db import connections, transaction
    from django.utils import timezone

    from accounts.models import CustomUser, Role
    from accounts.services import ClientInfo, auth_session_start
    from courses.models import Course
    from votes.models import Candidate, Poll, PollKind

    now = timezone.now()
    poll = Poll.objects.create(
        kind=PollKind.GENERAL,
        title="Faults poll",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(hours=1),
    )
    candidates = Candidate.objects.bulk_create(
        Candidate(poll=poll, name=f"Choice {k + 1}") for k in range(CANDIDATES)
    )
    tutor = CustomUser.objects.create_user(
        email="faults-tutor@example.com", username="faults-tutor", role=Role.TUTOR
    )
    courses = [
        Course.objects.create(
            title=f"Faults course {k + 1}", tutor=tutor, price=COURSE_PRICE, is_published=True
        ).pk
        for k in range(COURSES)
    ]
    CustomUser.objects.create_user(
        email=ACCOUNT_EMAIL, username="faults-account", password=ACCOUNT_PASSWORD
    )
    client = ClientInfo(user_agent="faults/run.py", ip="127.0.0.1")
    # One transaction: a commit per session would dominate the preparation time.
    with transaction.atomic():
        ballots = [
            Ballot(
                voter=user.pk,
                token=auth_session_start(user=user, client=client)[1].access,
                candidate=candidates[i % CANDIDATES].pk,
                key=uuid.uuid4().hex,
            )
            for i, user in enumerate(_users("faults-voter-", voters))
        ]
        shoppers = [
            Buyer(
                user=user.pk,
                token=auth_session_start(user=user, client=client)[1].access,
                course=courses[i % COURSES],
                key=uuid.uuid4().hex,
            )
            for i, user in enumerate(_users("faults-buyer-", buyers))
        ]
    # The scenarios restart the database: hold no connection across them.
    connections.close_all()
    return Fixture(poll.pk, ballots, shoppers)

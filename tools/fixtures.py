"""Data the load runs against, made fast with Django in this process on a run's database, and the
checks of what the database holds afterwards against what the clients were answered."""

import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

from tools.procs import HOST


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: a figure worth reporting, not judged
    detail: str = ""


def print_checks(checks: list[Check]) -> bool:
    """Print each check; True if none failed."""
    for check in checks:
        verdict = {True: "PASS", False: "FAIL", None: "info"}[check.ok]
        print(f"  {verdict:<5} {check.name}" + (f": {check.detail}" if check.detail else ""))
    return all(check.ok is not False for check in checks)


def django_setup(env: dict) -> None:
    """Django in this process, on the run's database, cache and settings."""
    os.environ.update(env)
    import django

    django.setup()


def closing(function):
    """No connection is kept between calls: runs restart the database, and gunicorn's workers
    should not compete with an idle one of this process."""

    def wrapper(*args, **kwargs):
        from django.db import connections

        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return wrapper


def analyze() -> None:
    """Planner statistics for the rows just made, as a database in service would have them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def users(prefix: str, count: int, **fields) -> list:
    """`count` users named `prefix`N, bulk-created with an unusable password (no login needed)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import CustomUser

    unusable = make_password(None)
    CustomUser.objects.bulk_create(
        # bulk_create skips save(): the (ASCII, lowercase) canonical key is given as is.
        CustomUser(email=f"{prefix}{i}@example.com", username=f"{prefix}{i}",
                   username_canonical=f"{prefix}{i}", password=unusable, **fields)
        for i in range(count)
    )  # fmt: skip
    return list(CustomUser.objects.filter(username__startswith=prefix).order_by("pk"))


def tokens(people: list, user_agent: str) -> list[str]:
    """An access token of a fresh session for each user, in order."""
    from django.db import transaction

    from accounts.auth.services import ClientInfo, auth_session_start

    client = ClientInfo(user_agent=user_agent, ip=HOST)
    # One transaction: a commit per session would dominate the preparation time.
    with transaction.atomic():
        return [auth_session_start(user=user, client=client)[1].access for user in people]


def open_poll(title: str, candidates: int) -> tuple[int, list[int]]:
    """An open general poll: its id and its candidates' ids."""
    from django.utils import timezone

    from votes.models import Candidate, Poll, PollKind

    now = timezone.now()
    window = {"opens_at": now - timedelta(minutes=1), "closes_at": now + timedelta(hours=1)}
    poll = Poll.objects.create(kind=PollKind.GENERAL, title=title, **window)
    rows = Candidate.objects.bulk_create(
        Candidate(poll=poll, name=f"Choice {k + 1}") for k in range(candidates)
    )
    return poll.pk, [row.pk for row in rows]


def holders(kind, prefix: str, count: int, choices: list[int], user_agent: str) -> list:
    """`count` new users as `kind` (Ballot or Buyer): each with an access token, one of `choices`
    in turn (candidates or courses) and an Idempotency-Key."""
    people = users(prefix, count)
    pairs = enumerate(zip(people, tokens(people, user_agent), strict=True))
    return [kind(u.pk, t, choices[i % len(choices)], uuid.uuid4().hex) for i, (u, t) in pairs]


def courses(title: str, count: int, price: int) -> list[int]:
    """`count` published courses of a new tutor."""
    from accounts.models import CustomUser, Role
    from courses.models import Course

    tutor = CustomUser.objects.create_user(
        email=f"{uuid.uuid4().hex[:8]}-tutor@example.com", username=f"tutor-{uuid.uuid4().hex[:8]}",
        role=Role.TUTOR,
    )  # fmt: skip
    return [
        Course.objects.create(
            title=f"{title} {k + 1}", tutor=tutor, price=price, is_published=True
        ).pk
        for k in range(count)
    ]


@closing
def votes_checks(*, poll_id: int, answered: set, attempted: set, lost: set) -> list[Check]:
    """`answered`: voters answered 201 (first try or retry); `attempted`: every voter that sent;
    `lost`: voters whose first try failed and whose retry did not cast the vote anew."""
    from votes.models import Candidate, Poll, Vote
    from votes.selectors import vote_totals_by_aggregate

    voters = list(Vote.objects.filter(poll_id=poll_id).values_list("voter_id", flat=True))
    stored = set(voters)
    counters = dict(Candidate.objects.filter(poll_id=poll_id).values_list("pk", "vote_count"))
    counted = vote_totals_by_aggregate(poll=Poll.objects.get(pk=poll_id))
    missing, unasked = answered - stored, stored - attempted
    return [
        Check("every 201 vote is a Vote row", not missing,
              f"{len(answered)} voters answered 201, {len(missing)} of them without a row"),
        Check("no Vote row nobody asked for, one per voter",
              not unasked and len(voters) == len(stored),
              f"{len(voters)} rows, {len(unasked)} of voters that never sent"),
        Check("vote counters = vote rows (per candidate)",
              counters == counted and sum(counters.values()) == len(voters),
              f"counters sum {sum(counters.values())}, rows {len(voters)}"),
        Check("votes committed although the client was told they failed (answer lost)", None,
              str(len(stored & lost))),
    ]  # fmt: skip


@closing
def checkout_checks(*, paid_payment_ids: set, nothing_else: bool = False) -> list[Check]:
    """`paid_payment_ids`: payments whose approve was answered 200 paid (first try or retry).
    `nothing_else`: every purchase started was answered paid, so nothing may be half-written."""
    from django.db.models import Count, Exists, F, OuterRef

    from courses.models import Enrollment, EnrollmentSource
    from payments.models import CartItem, Order, OrderStatus, Payment, PaymentStatus
    from payments.models import SandboxTransaction as Ledger

    paid = Payment.objects.filter(status=PaymentStatus.PAID)
    approved = Ledger.objects.filter(state=Ledger.State.APPROVED)
    backed = approved.filter(transaction_id=OuterRef("transaction_id"), amount=OuterRef("amount"))
    paid_ids = set(paid.values_list("pk", flat=True))
    paid_orders = Order.objects.filter(status=OrderStatus.PAID)
    bought = set(paid_orders.values_list("pk", "user_id", "lines__course_id"))
    bought = {(f"order:{order_id}", user_id, course_id) for order_id, user_id, course_id in bought}
    granted = set(
        Enrollment.objects.filter(source=EnrollmentSource.PURCHASE).values_list(
            "reference", "user_id", "course_id"
        )
    )
    charged_unsold = approved.exclude(transaction_id__in=paid.values("transaction_id")).count()
    unbacked = paid.exclude(Exists(backed)).count()
    order_mismatch = paid.exclude(order__status=OrderStatus.PAID).count() + (
        paid_orders.count() - paid.values("order_id").distinct().count()
    )
    lost = paid_payment_ids - paid_ids
    checks = [
        Check("every 200 approve is a paid payment", not lost,
              f"{len(paid_payment_ids)} answered paid, {len(lost)} not paid in the database"),
        Check("paid orders = orders of paid payments", order_mismatch == 0,
              f"{paid_orders.count()} paid orders, {len(paid_ids)} paid payments"),
        Check("enrollments = paid orders' lines exactly", granted == bought,
              f"{len(granted)} purchase enrollments, {len(bought - granted)} missing, "
              f"{len(granted - bought)} without a paid order"),
        Check("ledger: paid ⇔ approved, same amount", unbacked == 0 and charged_unsold == 0,
              f"{unbacked} paid without approval, {charged_unsold} approved without a paid "
              "payment"),
    ]  # fmt: skip
    if nothing_else:
        counts = (paid_orders.count(), len(paid_ids), approved.count(), len(granted))
        half_written = {
            "orders not paid": Order.objects.exclude(status=OrderStatus.PAID).count(),
            "payments not paid": Payment.objects.exclude(status=PaymentStatus.PAID).count(),
            "transactions not approved": Ledger.objects.exclude(
                state=Ledger.State.APPROVED
            ).count(),
            "amounts not the order's total": paid.exclude(amount=F("order__total")).count(),
            "paid orders without 1 line and 3 events": paid_orders.annotate(
                lines_n=Count("lines", distinct=True), events_n=Count("events", distinct=True)
            )
            .exclude(lines_n=1, events_n=3)
            .count(),
            "cart items": CartItem.objects.count(),
            "idempotency keys still claimed": stuck_idempotency_keys(),
        }
        checks += [
            Check("paid orders, paid payments, approved, enrollments = flows answered paid",
                  set(counts) == {len(paid_payment_ids)}, " / ".join(map(str, counts))),
            Check("nothing half-written", not any(half_written.values()),
                  ", ".join(f"{name} {n}" for name, n in half_written.items())),
        ]  # fmt: skip
    return checks


@closing
def stuck_idempotency_keys() -> int:
    """Keys claimed by a request that never finished: a retry with them gets 409 forever."""
    from core.models import IdempotencyRecord

    return IdempotencyRecord.objects.filter(status_code__isnull=True).count()

"""What the database must hold after a fault, judged against what the clients were answered:
every answered write stored, nothing half-written. Runs in this process with Django."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: a figure worth reporting, not judged
    detail: str = ""


def _closing(function):
    """No connection is kept between checks: the scenarios restart the database."""

    def wrapper(*args, **kwargs):
        from django.db import connections

        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return wrapper


@_closing
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
        Check(
            "every 201 vote is a Vote row",
            not missing,
            f"{len(answered)} voters answered 201, {len(missing)} of them without a row",
        ),
        Check(
            "no Vote row nobody asked for, one per voter",
            not unasked and len(voters) == len(stored),
            f"{len(voters)} rows, {len(unasked)} of voters that never sent",
        ),
        Check(
            "vote counters = vote rows (per candidate)",
            counters == counted and sum(counters.values()) == len(voters),
            f"counters sum {sum(counters.values())}, rows {len(voters)}",
        ),
        Check(
            "votes committed although the client was told they failed (answer lost)",
            None,
            str(len(stored & lost)),
        ),
    ]


@_closing
def checkout_checks(*, paid_payment_ids: set) -> list[Check]:
    """`paid_payment_ids`: payments whose approve was answered 200 paid (first try or retry)."""
    from django.db.models import Exists, OuterRef

    from courses.models import Enrollment, EnrollmentSource
    from payments.models import Order, OrderStatus, Payment, PaymentStatus, SandboxTransaction

    paid = Payment.objects.filter(status=PaymentStatus.PAID)
    ledger_approved = SandboxTransaction.objects.filter(
        transaction_id=OuterRef("transaction_id"),
        amount=OuterRef("amount"),
        state=SandboxTransaction.State.APPROVED,
    )
    paid_ids = set(paid.values_list("pk", flat=True))
    paid_orders = Order.objects.filter(status=OrderStatus.PAID)
    bought = {
        (f"order:{order_id}", user_id, course_id)
        for order_id, user_id, course_id in paid_orders.values_list(
            "pk", "user_id", "lines__course_id"
        )
    }
    granted = set(
        Enrollment.objects.filter(source=EnrollmentSource.PURCHASE).values_list(
            "reference", "user_id", "course_id"
        )
    )
    charged_unsold = (
        SandboxTransaction.objects.filter(state=SandboxTransaction.State.APPROVED)
        .exclude(transaction_id__in=paid.values("transaction_id"))
        .count()
    )
    unbacked = paid.exclude(Exists(ledger_approved)).count()
    order_mismatch = paid.exclude(order__status=OrderStatus.PAID).count() + (
        paid_orders.count() - paid.values("order_id").distinct().count()
    )
    lost = paid_payment_ids - paid_ids
    return [
        Check(
            "every 200 approve is a paid payment",
            not lost,
            f"{len(paid_payment_ids)} answered paid, {len(lost)} not paid in the database",
        ),
        Check(
            "paid orders = orders of paid payments",
            order_mismatch == 0,
            f"{paid_orders.count()} paid orders, {len(paid_ids)} paid payments",
        ),
        Check(
            "enrollments = paid orders' lines exactly",
            granted == bought,
            f"{len(granted)} purchase enrollments, {len(bought - granted)} missing, "
            f"{len(granted - bought)} without a paid order",
        ),
        Check(
            "ledger: paid ⇔ approved, same amount",
            unbacked == 0 and charged_unsold == 0,
            f"{unbacked} paid without approval, {charged_unsold} approved without a paid payment",
        ),
    ]


@_closing
def stuck_idempotency_keys() -> int:
    """Keys claimed by a request that never finished: a retry with them gets 409 forever."""
    from core.models import IdempotencyRecord

    return IdempotencyRecord.objects.filter(status_code__isnull=True).count()

"""The data checkout.py buys against, prepared in the bench database, and the checks of what the
purchases left there.

Published courses and curriculums of a bench tutor, buyers that each hold an access token of
their own and own nothing yet, and afterwards the consistency of orders, payments, the sandbox
ledger and enrollments.
"""

import time
from dataclasses import dataclass

from bench import harness, load

PREFIX = "bench-checkout-"
TUTOR_NAME = f"{PREFIX}tutor"
BUYER_PREFIX = f"{PREFIX}buyer-"
# The in-process query count's buyers; outside BUYER_PREFIX, so the load's checks skip them.
QUERY_PREFIX = f"{PREFIX}q-"
USER_AGENT = "bench/checkout.py"
COURSE_PRICE = 30_000
# Spreads the load's buyers over a few courses, as real buyers are.
LOAD_COURSES = 10
# Three of these fit under ORDER_MAX_TOTAL (50,000 KRW) in one order; three load courses do not.
SMALL_PRICE = 15_000
CURRICULUM_PRICES = {1: 20_000, 3: 40_000}

CART_ITEMS_PATH = "/api/cart/items/"
CART_PATH = "/api/cart/"
ORDERS_PATH = "/api/orders/"
PAYMENTS_PATH = "/api/payments/"


def approve_path(payment_id: int, pg_token: str) -> str:
    return f"/api/payments/{payment_id}/approve/?pg_token={pg_token}"


@dataclass
class Fixture:
    # One (access token, course id) per buyer of the load, each used for one flow.
    buyers: list[tuple[str, int]]
    probe: tuple[str, int]  # the sanity check's buyer, who buys before the load
    # Label -> (token, products as {"course": id} or {"curriculum": id}, added in this order).
    query_buyers: dict[str, tuple[str, list[dict]]]
    tokens_expire_at: float  # time.time() of the earliest expiry


def _user(username: str, **extra):
    from django.contrib.auth.hashers import make_password

    from accounts.models import CustomUser

    user, _created = CustomUser.objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@example.com", "password": make_password(None), **extra},
    )
    return user


def _buyers(count: int) -> tuple[list, int]:
    """`count` buyers, created in bulk if missing (unusable password: no login needed)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import CustomUser

    names = [f"{BUYER_PREFIX}{i:05d}" for i in range(count)]
    existing = set(
        CustomUser.objects.filter(username__startswith=BUYER_PREFIX).values_list(
            "username", flat=True
        )
    )
    unusable = make_password(None)
    missing = [
        # bulk_create skips save(): the (ASCII, lowercase) canonical key is given as is.
        CustomUser(
            email=f"{name}@example.com", username=name, username_canonical=name, password=unusable
        )
        for name in names
        if name not in existing
    ]
    CustomUser.objects.bulk_create(missing, batch_size=2000)
    users = CustomUser.objects.filter(username__startswith=BUYER_PREFIX, is_active=True)
    return list(users.order_by("username")[:count]), len(missing)


def _forget_earlier_runs() -> None:
    """Every row an earlier run left for the bench users, in the order PROTECT allows."""
    from accounts.models import AuthSession
    from core.models import IdempotencyRecord
    from courses.models import Course, Curriculum, Enrollment
    from payments.models import CartItem, Order, Payment, SandboxTransaction

    users = {"user__username__startswith": PREFIX}
    transaction_ids = Payment.objects.filter(**users, transaction_id__isnull=False).values(
        "transaction_id"
    )
    SandboxTransaction.objects.filter(transaction_id__in=transaction_ids).delete()
    Payment.objects.filter(**users).delete()
    Order.objects.filter(**users).delete()  # lines and events cascade
    for model in (CartItem, Enrollment, IdempotencyRecord, AuthSession):
        model.objects.filter(**users).delete()
    Curriculum.objects.filter(tutor__username=TUTOR_NAME).delete()
    Course.objects.filter(tutor__username=TUTOR_NAME).delete()


def _catalogue(tutor) -> tuple[list[int], list[int], dict[int, int]]:
    """Load courses, three cheaper courses, and curriculums of 1 and of 3 of those."""
    from courses.models import Course, Curriculum, CurriculumCourse

    def course(title: str, price: int) -> Course:
        return Course.objects.create(title=title, tutor=tutor, price=price, is_published=True)

    load_courses = [
        course(f"Bench checkout course {k + 1:02d}", COURSE_PRICE) for k in range(LOAD_COURSES)
    ]
    small = [course(f"Bench checkout small course {k + 1}", SMALL_PRICE) for k in range(3)]
    curriculums = {}
    for size, price in CURRICULUM_PRICES.items():
        curriculum = Curriculum.objects.create(
            title=f"Bench checkout curriculum of {size}",
            tutor=tutor,
            price=price,
            is_published=True,
        )
        CurriculumCourse.objects.bulk_create(
            CurriculumCourse(curriculum=curriculum, course=c, position=k)
            for k, c in enumerate(small[:size])
        )
        curriculums[size] = curriculum.pk
    return [c.pk for c in load_courses], [c.pk for c in small], curriculums


def django_prepare(*, buyers: int) -> Fixture:
    """Catalogue, buyers with one session + access token each, and the query-count buyers."""
    harness.django_setup()
    from django.conf import settings
    from django.db import connections, transaction

    from accounts.models import AuthSession, CustomUser, Role
    from accounts.services import ClientInfo, auth_session_start
    from core.models import IdempotencyRecord
    from courses.models import Course, Enrollment
    from payments.models import (
        CartItem,
        Order,
        OrderEvent,
        OrderLine,
        Payment,
        SandboxTransaction,
    )

    if "sandbox" not in settings.PAYMENT_PROVIDERS:
        raise RuntimeError("the sandbox payment provider is not enabled (BENCH_PAYMENT_SANDBOX)")
    began = time.monotonic()
    _forget_earlier_runs()
    tutor = _user(TUTOR_NAME, role=Role.TUTOR)
    load_courses, small, curriculums = _catalogue(tutor)
    users, created = _buyers(buyers + 1)
    if len(users) < buyers + 1:
        raise RuntimeError(f"only {len(users)} active bench buyers; {buyers + 1} are needed")
    baskets = {
        "warm-up": [{"course": load_courses[0]}],
        "course x1": [{"course": load_courses[0]}],
        "courses x3": [{"course": pk} for pk in small],
        "curriculum of 1": [{"curriculum": curriculums[1]}],
        "curriculum of 3": [{"curriculum": curriculums[3]}],
    }
    query_users = [_user(f"{QUERY_PREFIX}{label.replace(' ', '-')}"[:30]) for label in baskets]

    expires_at = time.time() + settings.ACCESS_TOKEN_LIFETIME.total_seconds()
    client = ClientInfo(user_agent=USER_AGENT, ip=load.HOST)
    # One transaction: a commit per session would dominate the preparation time.
    with transaction.atomic():
        tokens = [auth_session_start(user=user, client=client)[1].access for user in users]
        query_tokens = [
            auth_session_start(user=user, client=client)[1].access for user in query_users
        ]
    harness.database_vacuum(
        [
            model._meta.db_table
            for model in (
                CustomUser,
                AuthSession,
                Course,
                Enrollment,
                CartItem,
                Order,
                OrderLine,
                OrderEvent,
                Payment,
                SandboxTransaction,
                IdempotencyRecord,
            )
        ]
    )
    print(
        f"prepared in {time.monotonic() - began:.1f} s: {len(users)} buyers ({created} new) with "
        f"access tokens, {LOAD_COURSES} published courses at {COURSE_PRICE:,} KRW, 3 at "
        f"{SMALL_PRICE:,} KRW, curriculums of 1 and of 3 of those"
    )
    # The parent keeps no connection open while gunicorn and the load run.
    connections.close_all()
    pairs = [(token, load_courses[i % LOAD_COURSES]) for i, token in enumerate(tokens)]
    return Fixture(
        buyers=pairs[:buyers],
        probe=pairs[buyers],
        query_buyers={
            label: (token, basket)
            for (label, basket), token in zip(baskets.items(), query_tokens, strict=True)
        },
        tokens_expire_at=expires_at,
    )


# --- After the load -----------------------------------------------------------------------------


@dataclass
class Consistency:
    lines: list[str]
    ok: bool


def consistency_check(completed: int) -> Consistency:
    """What the load's buyers left in the database, against the `completed` flows (answered 200
    `paid` by the approve step): every purchase whole, nothing half-written."""
    from django.db import connections
    from django.db.models import Count, Exists, F, OuterRef

    from core.models import IdempotencyRecord
    from courses.models import Enrollment, EnrollmentSource
    from payments.models import (
        CartItem,
        Order,
        OrderStatus,
        Payment,
        PaymentStatus,
        SandboxTransaction,
    )

    users = {"user__username__startswith": BUYER_PREFIX}
    orders = Order.objects.filter(**users)
    paid_orders = orders.filter(status=OrderStatus.PAID)
    payments = Payment.objects.filter(**users)
    paid = payments.filter(status=PaymentStatus.PAID)
    approved_in_ledger = paid.filter(
        Exists(
            SandboxTransaction.objects.filter(
                transaction_id=OuterRef("transaction_id"),
                amount=OuterRef("amount"),
                state=SandboxTransaction.State.APPROVED,
            )
        )
    ).count()
    transaction_ids = payments.filter(transaction_id__isnull=False).values("transaction_id")
    ledger = SandboxTransaction.objects.filter(transaction_id__in=transaction_ids)
    # What each paid order bought, and what its enrollments say: the same sets exactly.
    bought = {
        (f"order:{order_id}", user_id, course_id)
        for order_id, user_id, course_id in paid_orders.values_list(
            "pk", "user_id", "lines__course_id"
        )
    }
    granted = set(
        Enrollment.objects.filter(
            **users, reference__startswith="order:", source=EnrollmentSource.PURCHASE
        ).values_list("reference", "user_id", "course_id")
    )
    counts = {
        "paid orders": paid_orders.count(),
        "paid payments": paid.count(),
        "paid payments approved in the sandbox ledger, same amount": approved_in_ledger,
        "enrollments with reference order:<id>": len(granted),
    }
    half_written = {
        "orders not paid": orders.exclude(status=OrderStatus.PAID).count(),
        "payments not paid": payments.exclude(status=PaymentStatus.PAID).count(),
        "sandbox transactions not approved": ledger.exclude(
            state=SandboxTransaction.State.APPROVED
        ).count(),
        "paid payments whose amount is not the order total": paid.exclude(
            amount=F("order__total")
        ).count(),
        "paid orders without exactly 1 line and 3 events": paid_orders.annotate(
            n_lines=Count("lines", distinct=True), n_events=Count("events", distinct=True)
        )
        .exclude(n_lines=1, n_events=3)
        .count(),
        "cart items left": CartItem.objects.filter(**users).count(),
        "idempotency keys still claimed": IdempotencyRecord.objects.filter(
            **users, status_code__isnull=True
        ).count(),
    }
    connections.close_all()
    lines = [f"flows completed (approve answered 200 paid): {completed}"]
    lines += [f"{name}: {value}" for name, value in counts.items()]
    lines.append(f"enrollments match the paid orders' lines exactly: {granted == bought}")
    lines += [f"{name}: {value}" for name, value in half_written.items()]
    ok = (
        all(value == completed for value in counts.values())
        and granted == bought
        and not any(half_written.values())
    )
    return Consistency(lines=lines, ok=ok)

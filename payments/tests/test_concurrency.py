"""Paying under load: real threads and PostgreSQL row locks against the sandbox's own ledger,
with the database checked afterwards."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

import pytest
from django.db import connection, transaction

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.models import IdempotencyRecord
from core.testing import assert_error_envelope, on_own_connection
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from payments.models import (
    CartItem,
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentStatus,
    SandboxTransaction,
)
from payments.tests.factories import CurriculumFactory
from payments.tests.flows import (
    ORDER_FIELDS,
    PAYMENT_FIELDS,
    approve,
    buy_with_sandbox,
    clients_of,
    concurrently,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def statuses(responses) -> list[int]:
    return sorted(response.status_code for response in responses)


def pending_payment(buyer, *courses, items=None) -> tuple[dict, dict, str]:
    """An order for `courses` (or `items`) with a started sandbox payment: its order, the
    payment's JSON and the pg_token the sandbox page hands out."""
    client = client_for(buyer)
    order = order_for(client, items=items) if items else order_for(client, *courses)
    started = payment_start(client, order["id"])
    token = pg_token_of(sandbox_authorise(client, started["redirect_url"]))
    return order, started["payment"], token


def assert_paid_once(*, order_id: int, payment_id: int, courses) -> None:
    """One charge, one "paid" event, one enrollment per course under the order's reference."""
    order = Order.objects.get(pk=order_id)
    assert order.status == OrderStatus.PAID
    assert Payment.objects.get(pk=payment_id).status == PaymentStatus.PAID
    assert list(SandboxTransaction.objects.values_list("state", flat=True)) == ["approved"]
    assert OrderEvent.objects.filter(order=order, type="paid").count() == 1
    assert not OrderEvent.objects.filter(order=order, type="payment_failed").exists()
    enrollments = Enrollment.objects.filter(user=order.user).order_by("course_id")
    assert [e.course_id for e in enrollments] == sorted(course.pk for course in courses)
    assert {(e.reference, e.revoked_at) for e in enrollments} == {(f"order:{order_id}", None)}


# --- approve ------------------------------------------------------------------------------------


@pytest.mark.parametrize("product", ["two_courses", "curriculum"])
def test_twenty_concurrent_approvals_charge_once_enrol_once_and_all_see_it_paid(product):
    buyer = UserFactory()
    courses = CourseFactory.create_batch(2, price=20000)
    if product == "curriculum":
        items = [{"curriculum": CurriculumFactory(courses=courses, price=35000).pk}]
    else:
        items = [{"course": course.pk} for course in courses]
    order, payment, token = pending_payment(buyer, items=items)

    responses = concurrently(
        [partial(approve, client, payment["id"], token) for client in clients_of(buyer, 20)]
    )

    assert statuses(responses) == [200] * 20, [r.content[:200] for r in responses]
    bodies = [response.json() for response in responses]
    assert set(bodies[0]) == PAYMENT_FIELDS
    assert bodies[0]["status"] == "paid"
    assert bodies[0]["amount"] == order["total"]
    assert all(body == bodies[0] for body in bodies)
    assert_paid_once(order_id=order["id"], payment_id=payment["id"], courses=courses)


# --- refund -------------------------------------------------------------------------------------


def test_ten_concurrent_refunds_give_the_money_back_once():
    buyer = UserFactory()
    courses = CourseFactory.create_batch(2, price=20000)
    paid = buy_with_sandbox(client_for(buyer), *courses)

    responses = concurrently(
        [
            partial(client.post, f"/api/payments/{paid['id']}/refund/")
            for client in clients_of(buyer, 10)
        ]
    )

    assert statuses(responses) == [200] + [409] * 9, [r.content[:200] for r in responses]
    (refunded,) = [response.json() for response in responses if response.status_code == 200]
    assert set(refunded) == PAYMENT_FIELDS and refunded["status"] == "refunded"
    for response in responses:
        if response.status_code == 409:
            assert_error_envelope(response, 409, "already_refunded")
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    order = Order.objects.get()
    assert order.status == OrderStatus.REFUNDED
    # The sandbox cancels an approved transaction once; a second cancel would be refund_declined.
    assert list(SandboxTransaction.objects.values_list("state", flat=True)) == ["cancelled"]
    assert OrderEvent.objects.filter(order=order, type="refunded").count() == 1
    enrollments = Enrollment.objects.filter(user=buyer)
    assert enrollments.count() == 2
    assert not enrollments.filter(revoked_at__isnull=True).exists()


# --- orders -------------------------------------------------------------------------------------


@pytest.mark.parametrize("earlier_pending", [False, True], ids=["no_earlier_order", "earlier"])
def test_concurrent_orders_by_one_user_leave_exactly_one_pending(earlier_pending):
    buyer = UserFactory()
    courses = CourseFactory.create_batch(10, price=10000)
    earlier = earlier_payment = None
    if earlier_pending:
        earlier, earlier_payment, _token = pending_payment(buyer, CourseFactory(price=10000))

    responses = concurrently(
        [
            partial(client.post, "/api/orders/", {"items": [{"course": course.pk}]}, format="json")
            for client, course in zip(clients_of(buyer, 10), courses, strict=True)
        ]
    )

    assert set(statuses(responses)) <= {201, 409}, [r.content[:200] for r in responses]
    created = [response.json() for response in responses if response.status_code == 201]
    assert created, "no order was created at all"
    assert all(set(body) == ORDER_FIELDS for body in created)
    for response in responses:
        if response.status_code == 409:
            assert_error_envelope(response, 409, "order_in_progress")
    orders = Order.objects.filter(user=buyer)
    assert orders.filter(status=OrderStatus.PENDING).count() == 1
    assert orders.filter(status=OrderStatus.PENDING).get().pk in {body["id"] for body in created}
    assert orders.count() == len(created) + (1 if earlier else 0)
    cancelled = orders.filter(status=OrderStatus.CANCELLED)
    assert cancelled.count() == orders.count() - 1
    for order in cancelled:
        events = list(order.events.values_list("type", flat=True))
        assert (events[0], events[-1], events.count("superseded")) == ("created", "superseded", 1)
    if earlier:
        assert Payment.objects.get(pk=earlier_payment["id"]).status == PaymentStatus.CANCELLED


# --- approve racing a cancel or a new order -----------------------------------------------------


@contextmanager
def order_row_locked(order_id: int):
    """Hold the order's row lock on the test's connection, so requests queue behind it in the
    order they arrive and run one after the other once it is released."""
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order_id)
        yield


def wait_until_blocked(count: int) -> None:
    """Wait until `count` backends of this database are waiting for a lock."""
    deadline = time.monotonic() + 10
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND cardinality(pg_blocking_pids(pid)) > 0"
            )
            (blocked,) = cursor.fetchone()
        if blocked >= count:
            return
        assert time.monotonic() < deadline, f"only {blocked} of {count} requests are waiting"
        time.sleep(0.01)


def in_turn(order_id: int, first: Callable, second: Callable) -> tuple:
    """Run `first`, then `second`, each waiting for the order's lock before the other starts."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        with order_row_locked(order_id):
            first_result = pool.submit(on_own_connection(first))
            wait_until_blocked(1)
            second_result = pool.submit(on_own_connection(second))
            wait_until_blocked(2)
        return first_result.result(timeout=20), second_result.result(timeout=20)


def assert_consistent(order_id: int) -> str:
    """Paid with its enrollments and one charge, or closed with no enrollment and no charge."""
    order = Order.objects.get(pk=order_id)
    enrollments = Enrollment.objects.filter(reference=order.reference, revoked_at__isnull=True)
    payments = list(order.payments.values_list("status", flat=True))
    charged = SandboxTransaction.objects.filter(
        transaction_id__in=order.payments.values("transaction_id"), state="approved"
    )
    if order.status == OrderStatus.PAID:
        assert enrollments.count() == order.lines.count()
        assert payments.count(PaymentStatus.PAID) == 1
        assert charged.count() == 1
    else:
        assert order.status == OrderStatus.CANCELLED
        assert not enrollments.exists()
        assert PaymentStatus.PAID not in payments
        assert not charged.exists()
    return order.status


RIVALS = {
    "cancel": lambda client, order, other: client.post(f"/api/orders/{order['id']}/cancel/"),
    "new_order": lambda client, order, other: client.post(
        "/api/orders/", {"items": [{"course": other.pk}]}, format="json"
    ),
}


@pytest.mark.parametrize("rival", RIVALS)
@pytest.mark.parametrize("first", ["approve", "rival"])
def test_approve_and_a_cancel_or_new_order_on_its_order_end_consistent(rival, first):
    buyer = UserFactory()
    course, other = CourseFactory(price=20000), CourseFactory(price=10000)
    order, payment, token = pending_payment(buyer, course)
    approving, rivalling = clients_of(buyer, 2)
    approve_call = partial(approve, approving, payment["id"], token)
    rival_call = partial(RIVALS[rival], rivalling, order, other)

    if first == "approve":
        approved, rivalled = in_turn(order["id"], approve_call, rival_call)
    else:
        rivalled, approved = in_turn(order["id"], rival_call, approve_call)

    end = assert_consistent(order["id"])
    if first == "approve":
        assert end == OrderStatus.PAID
        assert approved.status_code == 200, approved.content
        assert approved.json()["status"] == "paid"
        assert_paid_once(order_id=order["id"], payment_id=payment["id"], courses=[course])
        if rival == "cancel":
            assert_error_envelope(rivalled, 409, "order_not_cancellable")
        else:
            assert rivalled.status_code == 201, rivalled.content
            assert Order.objects.get(pk=rivalled.json()["id"]).status == OrderStatus.PENDING
    else:
        assert end == OrderStatus.CANCELLED
        assert rivalled.status_code == (200 if rival == "cancel" else 201), rivalled.content
        assert_error_envelope(approved, 409, "payment_not_pending")
        assert Payment.objects.get(pk=payment["id"]).status == PaymentStatus.CANCELLED
        assert SandboxTransaction.objects.get().state == SandboxTransaction.State.READY
        assert not Enrollment.objects.filter(user=buyer).exists()
        event = "cancelled" if rival == "cancel" else "superseded"
        assert OrderEvent.objects.filter(order_id=order["id"], type=event).count() == 1


def test_reordering_a_course_while_its_payment_is_approved_is_409_already_owned():
    """A new order that waited for the approval must not sell the course a second time."""
    buyer = UserFactory()
    course = CourseFactory(price=20000)
    order, payment, token = pending_payment(buyer, course)
    approving, reordering = clients_of(buyer, 2)

    approved, reordered = in_turn(
        order["id"],
        partial(approve, approving, payment["id"], token),
        partial(reordering.post, "/api/orders/", {"items": [{"course": course.pk}]}, format="json"),
    )

    assert approved.status_code == 200, approved.content
    assert_paid_once(order_id=order["id"], payment_id=payment["id"], courses=[course])
    assert_error_envelope(reordered, 409, "already_owned")
    assert list(Order.objects.filter(user=buyer).values_list("pk", flat=True)) == [order["id"]]


@pytest.mark.parametrize("rival", RIVALS)
def test_approvals_and_a_rival_started_together_end_consistent(rival):
    """No forced order: whichever wins, the order is paid with enrollments or closed without."""
    for _round in range(3):
        buyer = UserFactory()
        course, other = CourseFactory(price=20000), CourseFactory(price=10000)
        order, payment, token = pending_payment(buyer, course)
        clients = clients_of(buyer, 4)

        responses = concurrently(
            [
                *(partial(approve, client, payment["id"], token) for client in clients[:3]),
                partial(RIVALS[rival], clients[3], order, other),
            ]
        )

        assert 500 not in statuses(responses), [r.content[:200] for r in responses]
        end = assert_consistent(order["id"])
        *approvals, rivalled = responses
        if end == OrderStatus.PAID:
            assert [response.status_code for response in approvals] == [200] * 3
            expected_rival = {"cancel": 409, "new_order": 201}[rival]
        else:
            for response in approvals:
                assert_error_envelope(response, 409, "payment_not_pending")
            expected_rival = {"cancel": 200, "new_order": 201}[rival]
        assert rivalled.status_code == expected_rival, rivalled.content


# --- cart ---------------------------------------------------------------------------------------


def test_concurrent_adds_of_one_course_store_one_cart_item():
    buyer = UserFactory()
    course = CourseFactory()

    responses = concurrently(
        [
            partial(client.post, "/api/cart/items/", {"course": course.pk}, format="json")
            for client in clients_of(buyer, 10)
        ]
    )

    assert statuses(responses) == [201] + [409] * 9, [r.content[:200] for r in responses]
    (added,) = [response.json() for response in responses if response.status_code == 201]
    for response in responses:
        if response.status_code == 409:
            assert_error_envelope(response, 409, "already_in_cart")
    assert list(CartItem.objects.values_list("pk", "user_id", "course_id")) == [
        (added["id"], buyer.pk, course.pk)
    ]


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_one_idempotency_key_sent_concurrently_starts_one_payment():
    buyer = UserFactory()
    order = order_for(client_for(buyer), CourseFactory(price=20000))
    clients = clients_of(buyer, 10)

    responses = concurrently(
        [
            partial(
                client.post,
                "/api/payments/",
                {"order": order["id"], "provider": "sandbox"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="pay-once",
            )
            for client in clients
        ]
    )

    assert set(statuses(responses)) <= {201, 409}, [r.content[:200] for r in responses]
    first = [
        r for r in responses if r.status_code == 201 and not r.has_header("Idempotent-Replayed")
    ]
    assert len(first) == 1
    body = first[0].json()
    assert set(body) == {"payment", "redirect_url", "redirect_urls"}
    assert body["payment"]["amount"] == order["total"]
    for response in responses:
        if response.status_code == 409:
            assert_error_envelope(response, 409, "idempotency_request_in_progress")
        elif response is not first[0]:
            assert response["Idempotent-Replayed"] == "true"
            assert response.json() == body
    assert list(Payment.objects.values_list("pk", "status")) == [
        (body["payment"]["id"], PaymentStatus.PENDING)
    ]
    assert SandboxTransaction.objects.get().transaction_id == body["payment"]["transaction_id"]
    assert OrderEvent.objects.filter(order_id=order["id"], type="payment_started").count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.status_code) == ("pay-once", 201)

"""Pending orders expire ORDER_PENDING_TTL after they were placed (audit item 11): whatever uses
one checks that under its row lock, `manage.py purge_expired` closes the rest, and a payment the
buyer already started before the expiry is honoured."""

from datetime import timedelta
from functools import partial
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import HANGUL, assert_error_envelope, on_own_connection
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from payments.models import Order, OrderEvent, OrderStatus, Payment, PaymentStatus
from payments.models import SandboxTransaction as Ledger
from payments.services.orders import orders_expire
from payments.tests.flows import (
    ORDER_FIELDS,
    approve,
    clients_of,
    concurrently,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)

pytestmark = pytest.mark.django_db


def age(order_id: int, seconds: float, *, payments: bool = True) -> None:
    """Move the order (and its payments) `seconds` into the past."""
    delta = timedelta(seconds=seconds)
    Order.objects.filter(pk=order_id).update(created_at=F("created_at") - delta)
    if payments:
        Payment.objects.filter(order_id=order_id).update(created_at=F("created_at") - delta)


def start(client, order_id: int):
    return client.post("/api/payments/", {"order": order_id, "provider": "sandbox"}, format="json")


def assert_closed_as_expired(order_id: int) -> Order:
    order = Order.objects.get(pk=order_id)
    assert order.status == OrderStatus.EXPIRED
    assert order.closed_at is not None
    [event] = OrderEvent.objects.filter(order=order, type="expired")
    assert (event.from_status, event.to_status) == (OrderStatus.PENDING, OrderStatus.EXPIRED)
    return order


@pytest.fixture
def ttl(settings) -> int:
    settings.ORDER_PENDING_TTL = 1800
    settings.PAYMENT_APPROVAL_WINDOW = 900
    return 1800


def test_a_pending_order_says_when_it_expires(auth_client, ttl):
    order = order_for(auth_client, CourseFactory())
    assert set(order) == ORDER_FIELDS
    stored = Order.objects.get(pk=order["id"])
    assert order["expires_at"] == (
        timezone.localtime(stored.created_at + timedelta(seconds=ttl)).isoformat()
    )
    detail = auth_client.get(f"/api/orders/{order['id']}/").json()
    assert detail["expires_at"] == order["expires_at"]
    auth_client.post(f"/api/orders/{order['id']}/cancel/")
    assert auth_client.get(f"/api/orders/{order['id']}/").json()["expires_at"] is None


def test_an_order_just_before_its_expiry_can_still_be_paid(auth_client, ttl):
    order = order_for(auth_client, CourseFactory())
    age(order["id"], ttl - 5)
    assert start(auth_client, order["id"]).status_code == 201


def test_paying_an_expired_order_is_409_order_expired_and_closes_it(auth_client, ttl):
    """The audit's case: an old price must not stay payable."""
    order = order_for(auth_client, CourseFactory())
    age(order["id"], ttl)

    response = start(auth_client, order["id"])

    assert_error_envelope(response, 409, "order_expired")
    assert_closed_as_expired(order["id"])
    assert not Payment.objects.exists() and not Ledger.objects.exists()
    assert_error_envelope(start(auth_client, order["id"]), 409, "order_expired")
    detail = auth_client.get(f"/api/orders/{order['id']}/").json()
    assert (detail["status"], detail["expires_at"]) == ("expired", None)
    assert [event["type"] for event in detail["events"]] == ["created", "expired"]


def test_cancelling_an_expired_order_is_409_order_expired(auth_client, ttl):
    order = order_for(auth_client, CourseFactory())
    age(order["id"], ttl + 1)

    assert_error_envelope(
        auth_client.post(f"/api/orders/{order['id']}/cancel/"), 409, "order_expired"
    )

    assert_closed_as_expired(order["id"])


def test_a_new_order_closes_an_expired_one_as_expired(auth_client, ttl):
    old = order_for(auth_client, CourseFactory())
    age(old["id"], ttl + 1)

    order_for(auth_client, CourseFactory())

    assert_closed_as_expired(old["id"])
    assert not OrderEvent.objects.filter(order_id=old["id"], type="superseded").exists()


def test_a_payment_started_before_the_expiry_is_honoured_after_it(auth_client, user, ttl):
    """The buyer authorised that amount at the provider before the order expired."""
    course = CourseFactory()
    order = order_for(auth_client, course)
    started = payment_start(auth_client, order["id"])
    token = pg_token_of(sandbox_authorise(auth_client, started["redirect_url"]))
    age(order["id"], ttl + 60)

    paid = approve(auth_client, started["payment"]["id"], token)

    assert paid.status_code == 200, paid.content
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.PAID
    assert Enrollment.objects.filter(user=user, course=course, revoked_at__isnull=True).exists()


def test_a_payment_started_after_the_expiry_is_not_honoured(auth_client, user, settings, ttl):
    """ORDER_PENDING_TTL was shortened after the payment started: it began too late."""
    order = order_for(auth_client, CourseFactory())
    started = payment_start(auth_client, order["id"])
    token = pg_token_of(sandbox_authorise(auth_client, started["redirect_url"]))
    age(order["id"], 600, payments=False)
    settings.ORDER_PENDING_TTL = 300

    response = approve(auth_client, started["payment"]["id"], token)

    assert_error_envelope(response, 409, "order_expired")
    assert_closed_as_expired(order["id"])
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    assert Ledger.objects.get().state == Ledger.State.READY  # nothing was charged
    assert not Enrollment.objects.filter(user=user).exists()


# --- manage.py purge_expired --------------------------------------------------------------------


def test_orders_expire_closes_what_can_no_longer_be_paid_and_nothing_else(ttl):
    clients = [client_for(UserFactory()) for _ in range(5)]
    fresh, due, started_recently, started_long_ago, paid = (
        order_for(client, CourseFactory(price=10000))["id"] for client in clients
    )
    payment_start(clients[2], started_recently)
    long_ago = payment_start(clients[3], started_long_ago)["payment"]["id"]
    for order_id in (due, started_recently, started_long_ago, paid):
        age(order_id, ttl + 3600, payments=False)
    Payment.objects.filter(pk=long_ago).update(created_at=timezone.now() - timedelta(seconds=901))
    Order.objects.filter(pk=paid).update(status=OrderStatus.PAID, paid_at=timezone.now())
    out = StringIO()

    call_command("purge_expired", stdout=out)

    assert "expired pending orders: 2 deleted" in out.getvalue().splitlines()
    assert_closed_as_expired(due)
    assert_closed_as_expired(started_long_ago)
    assert Payment.objects.get(pk=long_ago).status == PaymentStatus.CANCELLED
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert (statuses[fresh], statuses[started_recently], statuses[paid]) == (
        OrderStatus.PENDING,
        OrderStatus.PENDING,
        OrderStatus.PAID,
    )
    assert orders_expire(batch_size=1) == 0
    assert OrderEvent.objects.filter(type="expired").count() == 2


def test_orders_expire_reads_in_batches_and_skips_nothing(ttl):
    orders = [order_for(client_for(UserFactory()), CourseFactory())["id"] for _ in range(5)]
    for order_id in orders:
        age(order_id, ttl)

    assert orders_expire(batch_size=2) == 5

    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.EXPIRED}


def test_the_new_payment_errors_are_in_korean(user, ttl, settings):
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko"
    course = CourseFactory(price=20000)
    order = order_for(client, course)
    started = payment_start(client, order["id"])
    refused = approve(client, started["payment"]["id"], "0" * 20)
    course.price = 25000
    course.save()
    changed = start(client, order["id"])
    age(order["id"], ttl)
    expired = start(client, order["id"])
    settings.ORDER_MAX_TOTAL = 10000
    too_dear = client.post("/api/cart/items/", {"course": course.pk}, format="json")

    for response, status_code, code in (
        (refused, 402, "approval_refused"),
        (changed, 409, "price_changed"),
        (expired, 409, "order_expired"),
        (too_dear, 400, "order_limit_exceeded"),
    ):
        error = assert_error_envelope(response, status_code, code)
        assert response["Content-Language"] == "ko"
        assert HANGUL.search(error["message"]), error


# --- races --------------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_purge_racing_an_approval_ends_paid_or_expired_never_both(settings):
    """Real threads: an order past its expiry whose payment is past the approval window is
    approved by its buyer while orders_expire runs. Either it is paid (with its course) or
    expired (no charge, no course); the locked order is skipped by the purge, never half-closed."""
    settings.ORDER_PENDING_TTL, settings.PAYMENT_APPROVAL_WINDOW = 1800, 900
    outcomes = set()
    for _round in range(4):
        buyer = UserFactory()
        client = client_for(buyer)
        course = CourseFactory(price=10000)
        order = order_for(client, course)
        started = payment_start(client, order["id"])
        token = pg_token_of(sandbox_authorise(client, started["redirect_url"]))
        age(order["id"], 1800 + 3600)
        Payment.objects.filter(pk=started["payment"]["id"]).update(
            created_at=timezone.now() - timedelta(seconds=1800 + 3000)
        )
        (approving,) = clients_of(buyer, 1)

        approved, purged = concurrently(
            [
                partial(approve, approving, started["payment"]["id"], token),
                on_own_connection(orders_expire),
            ]
        )

        stored = Order.objects.get(pk=order["id"])
        granted = Enrollment.objects.filter(user=buyer, course=course, revoked_at__isnull=True)
        if stored.status == OrderStatus.PAID:
            assert approved.status_code == 200, approved.content
            charge = Ledger.objects.get(transaction_id=approved.json()["transaction_id"])
            assert (purged, granted.count(), charge.state) == (0, 1, Ledger.State.APPROVED)
        else:
            assert stored.status == OrderStatus.EXPIRED
            assert_error_envelope(approved, 409, "payment_not_pending")
            assert (purged, granted.count()) == (1, 0)
            assert Payment.objects.get(pk=started["payment"]["id"]).status == "cancelled"
        outcomes.add(stored.status)
    assert outcomes <= {OrderStatus.PAID, OrderStatus.EXPIRED}

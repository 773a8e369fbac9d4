"""The receipt rows of API.md (paid and refunded payments only) and GET /api/payments/{id}/, after
purchases made through the sandbox provider."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.testing import client_for
from core.testing import assert_error_envelope
from courses.tests.factories import CourseFactory
from payments.models import Order, OrderLine, OrderStatus, Payment, PaymentStatus
from payments.tests.factories import BillingAddressFactory, CurriculumFactory
from payments.tests.flows import PAYMENT_FIELDS, buy_with_sandbox, order_for, payment_start

pytestmark = pytest.mark.django_db

RECEIPTS = "/api/receipts/"
RECEIPT_FIELDS = {
    "id",
    "receipt_number",
    "order",
    "status",
    "provider",
    "method",
    "amount",
    "currency",
    "lines",
    "billing_address",
    "approved_at",
    "refunded_at",
    "refundable_until",
}
LINE_FIELDS = {"id", "kind", "course", "curriculum", "title", "price"}
RECEIPT_NUMBER = re.compile(r"^R\d{8}-\d{8}$")


@pytest.fixture
def history(user, auth_client, settings):
    """One payment of `user` in each state, made through the API: paid, refunded, failed,
    cancelled and pending (the last three on one order that is still waiting)."""
    settings.REFUND_WINDOW_DAYS = 3
    address = BillingAddressFactory(user=user, is_default=True)
    paid = buy_with_sandbox(auth_client, CourseFactory(title="Django", price=30000))
    refunded = buy_with_sandbox(auth_client, CourseFactory(title="Vue", price=20000))
    response = auth_client.post(f"/api/payments/{refunded['id']}/refund/")
    assert response.status_code == 200, response.content
    waiting = order_for(auth_client, CourseFactory(price=10000))
    failed = payment_start(auth_client, waiting["id"])["payment"]
    response = auth_client.get(f"/api/payments/{failed['id']}/fail/")
    assert response.status_code == 200, response.content
    cancelled = payment_start(auth_client, waiting["id"])["payment"]
    pending = payment_start(auth_client, waiting["id"])["payment"]  # cancels the one before
    ids = {
        "paid": paid["id"],
        "refunded": refunded["id"],
        "failed": failed["id"],
        "cancelled": cancelled["id"],
        "pending": pending["id"],
    }
    assert {status: Payment.objects.get(pk=pk).status for status, pk in ids.items()} == {
        status: status for status in ids
    }
    return {"ids": ids, "address": address}


def settled_payment(user, *products, approved_at=None) -> Payment:
    """A paid order and its payment written straight to the database."""
    approved_at = approved_at or timezone.now()
    total = sum(product.price for product in products)
    order = Order.objects.create(
        user=user, status=OrderStatus.PAID, total=total, paid_at=approved_at
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            course=product if product._meta.model_name == "course" else None,
            curriculum=product if product._meta.model_name == "curriculum" else None,
            title=product.title,
            price=product.price,
        )
        for product in products
    )
    return Payment.objects.create(
        order=order,
        user=user,
        provider="sandbox",
        status=PaymentStatus.PAID,
        amount=total,
        transaction_id=f"SBX-{order.pk}",
        method="SANDBOX",
        approved_at=approved_at,
    )


# --- GET /api/receipts/ , /api/receipts/{id}/ -------------------------------------------------


def test_receipts_are_the_paid_and_refunded_payments_only(auth_client, history):
    ids = history["ids"]

    response = auth_client.get(RECEIPTS)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    # Newest approval first.
    assert [(r["id"], r["status"]) for r in body["results"]] == [
        (ids["refunded"], "refunded"),
        (ids["paid"], "paid"),
    ]
    assert Payment.objects.count() == 5


def test_a_receipt_has_its_number_lines_address_and_refund_deadline(auth_client, history):
    address = history["address"]

    body = auth_client.get(RECEIPTS).json()

    refunded, paid = body["results"]
    for receipt in (refunded, paid):
        assert set(receipt) == RECEIPT_FIELDS
        payment = Payment.objects.select_related("order").get(pk=receipt["id"])
        assert RECEIPT_NUMBER.match(receipt["receipt_number"]), receipt["receipt_number"]
        assert receipt["receipt_number"] == payment.receipt_number
        assert receipt["receipt_number"].endswith(f"-{payment.pk:08d}")
        assert (receipt["order"], receipt["amount"], receipt["currency"]) == (
            payment.order_id,
            payment.order.total,
            "KRW",
        )
        assert (receipt["provider"], receipt["method"]) == ("sandbox", "SANDBOX")
        approved_at = parse_datetime(receipt["approved_at"])
        assert approved_at == payment.approved_at
        assert receipt["billing_address"]["id"] == address.pk
        assert receipt["billing_address"]["line1"] == address.line1
        assert all(set(line) == LINE_FIELDS for line in receipt["lines"])
    # Only a paid receipt may still be refunded, until approval + REFUND_WINDOW_DAYS.
    assert parse_datetime(paid["refundable_until"]) == parse_datetime(
        paid["approved_at"]
    ) + timedelta(days=3)
    assert refunded["refundable_until"] is None
    assert [(line["kind"], line["title"], line["price"]) for line in paid["lines"]] == [
        ("course", "Django", 30000)
    ]
    assert [(line["title"], line["price"]) for line in refunded["lines"]] == [("Vue", 20000)]
    assert paid["refunded_at"] is None
    refunded_at = parse_datetime(refunded["refunded_at"])
    assert refunded_at == Payment.objects.get(pk=refunded["id"]).refunded_at
    assert refunded_at >= parse_datetime(refunded["approved_at"])


def test_receipt_detail_is_the_same_receipt(auth_client, history):
    listed = {receipt["id"]: receipt for receipt in auth_client.get(RECEIPTS).json()["results"]}

    for payment_id in (history["ids"]["paid"], history["ids"]["refunded"]):
        response = auth_client.get(f"{RECEIPTS}{payment_id}/")
        assert response.status_code == 200
        assert response.json() == listed[payment_id]


@pytest.mark.parametrize("status", ["pending", "failed", "cancelled"])
def test_a_payment_that_took_no_money_has_no_receipt(auth_client, history, status):
    payment_id = history["ids"][status]

    assert_error_envelope(auth_client.get(f"{RECEIPTS}{payment_id}/"), 404, "not_found")

    assert Payment.objects.get(pk=payment_id).status == status


def test_another_users_receipt_is_404_and_not_listed(history):
    stranger = client_for(CourseFactory().tutor)

    for payment_id in (history["ids"]["paid"], history["ids"]["refunded"]):
        assert_error_envelope(stranger.get(f"{RECEIPTS}{payment_id}/"), 404, "not_found")
    assert stranger.get(RECEIPTS).json()["count"] == 0
    assert Payment.objects.filter(status__in=("paid", "refunded")).count() == 2


@pytest.mark.parametrize(
    ("approved_at", "expected"),
    [
        (datetime(2025, 3, 1, 3, 0, tzinfo=UTC), "20250301"),  # 12:00 in Seoul
        (datetime(2025, 2, 28, 23, 30, tzinfo=UTC), "20250301"),  # 08:30 on 1 March in Seoul
    ],
    ids=["same-day-in-utc", "next-day-in-seoul"],
)
def test_the_receipt_number_carries_the_local_date_of_approval(
    auth_client, user, settings, approved_at, expected
):
    settings.TIME_ZONE = "Asia/Seoul"
    payment = settled_payment(user, CourseFactory(), approved_at=approved_at)

    body = auth_client.get(f"{RECEIPTS}{payment.pk}/").json()

    assert body["approved_at"].startswith("2025-03-01T")  # as the API shows it, Seoul time
    assert body["receipt_number"] == f"R{expected}-{payment.pk:08d}"


@pytest.mark.parametrize("size", [1, 8])
def test_the_receipt_list_runs_a_fixed_number_of_queries(
    auth_client, user, django_assert_max_num_queries, size
):
    products = [*CourseFactory.create_batch(2), CurriculumFactory()]
    for _ in range(size):
        settled_payment(user, *products)
    # Measured: the session with its user (1) + count (1) + payments with orders (1) + lines (1).
    with django_assert_max_num_queries(4):
        body = auth_client.get(RECEIPTS, {"page_size": 100}).json()
    assert body["count"] == size
    assert {len(receipt["lines"]) for receipt in body["results"]} == {3}


# --- GET /api/payments/{id}/ ------------------------------------------------------------------


def test_payment_detail_of_a_paid_payment(auth_client, history):
    payment_id = history["ids"]["paid"]

    response = auth_client.get(f"/api/payments/{payment_id}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAYMENT_FIELDS
    payment = Payment.objects.get(pk=payment_id)
    assert (body["status"], body["amount"], body["provider"], body["method"]) == (
        "paid",
        30000,
        "sandbox",
        "SANDBOX",
    )
    assert (body["order"], body["transaction_id"]) == (payment.order_id, payment.transaction_id)
    assert (body["failure_code"], body["failure_message"], body["refunded_at"]) == ("", "", None)
    assert parse_datetime(body["approved_at"]) == payment.approved_at
    assert parse_datetime(body["refundable_until"]) == payment.approved_at + timedelta(days=3)


@pytest.mark.parametrize(
    ("status", "failure_code"),
    [("pending", ""), ("failed", "provider_failed"), ("cancelled", "")],
)
def test_payment_detail_of_an_unsettled_payment_has_no_dates(
    auth_client, history, status, failure_code
):
    payment_id = history["ids"][status]

    response = auth_client.get(f"/api/payments/{payment_id}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PAYMENT_FIELDS
    assert (body["status"], body["amount"], body["failure_code"]) == (status, 10000, failure_code)
    assert (body["approved_at"], body["refunded_at"], body["refundable_until"]) == (
        None,
        None,
        None,
    )
    assert Payment.objects.get(pk=payment_id).status == status


@pytest.mark.parametrize("whose", ["someone-elses", "unknown"])
def test_payment_detail_of_a_payment_that_is_not_yours_is_404(history, whose):
    payment_id = history["ids"]["paid"] if whose == "someone-elses" else 999_999

    response = client_for(CourseFactory().tutor).get(f"/api/payments/{payment_id}/")

    assert_error_envelope(response, 404, "not_found")
    assert Payment.objects.get(pk=history["ids"]["paid"]).status == PaymentStatus.PAID


@pytest.mark.parametrize("path", [RECEIPTS, RECEIPTS + "{}/", "/api/payments/{}/"])
def test_anonymous_is_401(api_client, user, path):
    payment = settled_payment(user, CourseFactory())

    response = api_client.get(path.format(payment.pk))

    assert_error_envelope(response, 401, "not_authenticated")
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID

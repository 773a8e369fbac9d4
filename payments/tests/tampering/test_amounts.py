"""Amounts come from the server: whatever a client sends, stale prices and products no longer
for sale are refused before anything is charged."""

import pytest

from core.testing import assert_error_envelope
from courses.models import Course, Enrollment
from courses.tests.factories import CourseFactory
from payments.models import Order, OrderStatus, Payment, PaymentStatus, SandboxTransaction
from payments.tests.factories import CurriculumFactory
from payments.tests.flows import (
    PAYMENT_FIELDS,
    approve,
    commerce_rows,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
    started_payment,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "tampered",
    [
        pytest.param({"total": 100}, id="order-total"),
        pytest.param({"items": [{"price": 100}]}, id="line-price"),
        pytest.param({"total": 0, "items": [{"price": 0, "total": 0}]}, id="both-zero"),
    ],
)
def test_amounts_in_an_order_body_never_set_the_stored_total(buyer_client, user, tampered):
    course = CourseFactory(price=30000)
    items = [{"course": course.pk, **line} for line in tampered.get("items", [{}])]
    body = {**tampered, "items": items}

    response = buyer_client.post("/api/orders/", body, format="json")

    orders = Order.objects.filter(user=user)
    if response.status_code == 400:  # refusing is as good as ignoring
        assert_error_envelope(response, 400)
        assert not orders.exists()
        return
    assert response.status_code == 201, response.content
    assert response.json()["total"] == 30000
    assert [line["price"] for line in response.json()["lines"]] == [30000]
    order = orders.get()
    assert order.total == 30000
    assert list(order.lines.values_list("price", flat=True)) == [30000]


def test_an_amount_in_the_payment_body_is_ignored(buyer_client, user):
    order = order_for(buyer_client, CourseFactory(price=30000))

    response = buyer_client.post(
        "/api/payments/",
        {"order": order["id"], "provider": "sandbox", "amount": 100},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["payment"]["amount"] == 30000
    assert Payment.objects.get(user=user).amount == 30000
    assert SandboxTransaction.objects.get().amount == 30000


def test_an_amount_in_the_approve_query_is_ignored(buyer_client, user):
    order, started, token = started_payment(buyer_client, CourseFactory(price=30000))

    response = buyer_client.get(
        f"/api/payments/{started['payment']['id']}/approve/", {"pg_token": token, "amount": 100}
    )

    assert response.status_code == 200, response.content
    assert set(response.json()) == PAYMENT_FIELDS
    assert (response.json()["status"], response.json()["amount"]) == ("paid", 30000)
    payment = Payment.objects.get(user=user)
    assert (payment.status, payment.amount) == (PaymentStatus.PAID, 30000)
    assert SandboxTransaction.objects.get().amount == 30000
    assert Order.objects.get(pk=order["id"]).total == 30000


@pytest.mark.parametrize("new_price", [1000, 45000], ids=["cheaper", "dearer"])
def test_a_price_change_after_the_payment_started_changes_neither_the_charge_nor_the_receipt(
    buyer_client, user, new_price
):
    """The buyer authorised the ordered amount at the provider: that payment is honoured."""
    course = CourseFactory(price=30000, title="Django")
    order = order_for(buyer_client, course)
    started = payment_start(buyer_client, order["id"])
    Course.objects.filter(pk=course.pk).update(price=new_price)

    token = pg_token_of(sandbox_authorise(buyer_client, started["redirect_url"]))
    paid = approve(buyer_client, started["payment"]["id"], token)
    receipt = buyer_client.get(f"/api/receipts/{started['payment']['id']}/")

    assert started["payment"]["amount"] == 30000
    assert paid.status_code == 200, paid.content
    assert paid.json()["amount"] == 30000
    assert receipt.status_code == 200, receipt.content
    assert receipt.json()["amount"] == 30000
    assert [(line["title"], line["price"]) for line in receipt.json()["lines"]] == [
        ("Django", 30000)
    ]
    assert Order.objects.get(pk=order["id"]).total == 30000
    assert Payment.objects.get().amount == 30000
    assert SandboxTransaction.objects.get().amount == 30000
    assert Enrollment.objects.filter(user=user, course=course).exists()


@pytest.mark.parametrize("new_price", [1000, 38000], ids=["cheaper", "dearer"])
def test_a_stale_price_is_409_price_changed_with_the_new_total_and_a_new_order_pays_it(
    buyer_client, user, new_price
):
    """The audit's stale price: the tutor changes the price after the order was placed. Paying
    the old order is refused (nothing starts); ordering again pays the current price."""
    course, other = CourseFactory(price=30000), CourseFactory(price=10000)
    order = order_for(buyer_client, course, other)
    Course.objects.filter(pk=course.pk).update(price=new_price)
    before = commerce_rows()

    response = buyer_client.post(
        "/api/payments/", {"order": order["id"], "provider": "sandbox"}, format="json"
    )

    error = assert_error_envelope(response, 409, "price_changed")
    assert error["fields"] == {
        "total": [str(new_price + 10000)],
        "lines[0].price": [str(new_price)],
    }
    assert f"{new_price + 10000:,}" in error["message"]
    assert commerce_rows() == before
    again = order_for(buyer_client, course, other)
    assert again["total"] == new_price + 10000
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.CANCELLED
    paid = approve(
        buyer_client,
        (started := payment_start(buyer_client, again["id"]))["payment"]["id"],
        pg_token_of(sandbox_authorise(buyer_client, started["redirect_url"])),
    )
    assert paid.status_code == 200, paid.content
    assert paid.json()["amount"] == new_price + 10000


@pytest.mark.parametrize("change", ["unpublished", "free", "curriculum_emptied"])
def test_an_order_of_something_no_longer_for_sale_cannot_be_paid(buyer_client, change):
    course = CourseFactory(price=20000)
    curriculum = CurriculumFactory(price=20000)
    order = order_for(buyer_client, items=[{"course": course.pk}, {"curriculum": curriculum.pk}])
    if change == "unpublished":
        Course.objects.filter(pk=course.pk).update(is_published=False)
    elif change == "free":
        Course.objects.filter(pk=course.pk).update(price=0)
    else:
        curriculum.courses.clear()
    before = commerce_rows()

    response = buyer_client.post(
        "/api/payments/", {"order": order["id"], "provider": "sandbox"}, format="json"
    )

    error = assert_error_envelope(response, 400, "not_for_sale")
    field = "lines[1].curriculum" if change == "curriculum_emptied" else "lines[0].course"
    assert list(error["fields"]) == [field]
    assert commerce_rows() == before

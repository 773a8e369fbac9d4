"""GET /api/orders/, /api/orders/{id}/ and POST /api/orders/{id}/cancel/: only your own,
paginated in a fixed number of queries, cancelling; ordered products stay."""

import pytest

from accounts.testing import client_for
from core.testing import assert_error_envelope
from courses.tests.factories import CourseFactory
from payments.models import Order, OrderEvent, OrderLine, OrderStatus, Payment, PaymentStatus
from payments.tests.factories import CurriculumFactory
from payments.tests.flows import ORDER_FIELDS, ORDERS, items, payment_start, place, stored_order

pytestmark = pytest.mark.django_db

DETAIL_FIELDS = ORDER_FIELDS | {"events", "payments"}
EVENT_FIELDS = {"type", "from_status", "to_status", "created_at"}


def test_the_order_list_is_paginated_newest_first_and_only_your_own(auth_client, user):
    ids = [place(auth_client, items(CourseFactory())).json()["id"] for _ in range(3)]
    stored_order(CourseFactory().tutor, CourseFactory())  # someone else's

    first_page = auth_client.get(ORDERS, {"page_size": 2})
    second_page = auth_client.get(ORDERS, {"page_size": 2, "page": 2})

    assert first_page.status_code == second_page.status_code == 200
    body = first_page.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert (body["count"], body["previous"]) == (3, None)
    assert "page=2" in body["next"]
    assert all(set(order) == ORDER_FIELDS for order in body["results"])
    assert [order["id"] for order in body["results"]] == [ids[2], ids[1]]
    assert [order["id"] for order in second_page.json()["results"]] == [ids[0]]
    assert [order["status"] for order in body["results"]] == ["pending", "cancelled"]
    assert Order.objects.filter(user=user).count() == 3


@pytest.mark.parametrize("size", [1, 15])
def test_the_order_list_runs_a_fixed_number_of_queries(
    auth_client, user, django_assert_max_num_queries, size
):
    courses = CourseFactory.create_batch(3)
    curriculum = CurriculumFactory(courses=[CourseFactory()])
    for _ in range(size):
        stored_order(user, *courses, curriculum)
    # Measured: the session with its user (1) + count (1) + orders (1) + their lines (1).
    with django_assert_max_num_queries(4):
        body = auth_client.get(ORDERS, {"page_size": 100}).json()
    assert body["count"] == size
    assert {len(order["lines"]) for order in body["results"]} == {4}


def test_order_detail_has_events_and_payments(auth_client, user):
    order = place(auth_client, items(CourseFactory(price=25000))).json()
    started = payment_start(auth_client, order["id"])

    response = auth_client.get(f"{ORDERS}{order['id']}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert all(set(event) == EVENT_FIELDS for event in body["events"])
    assert [event["type"] for event in body["events"]] == ["created", "payment_started"]
    assert len(body["payments"]) == 1
    payment = body["payments"][0]
    assert (payment["id"], payment["order"], payment["status"], payment["amount"]) == (
        started["payment"]["id"],
        order["id"],
        "pending",
        25000,
    )
    assert payment["provider"] == "sandbox"
    assert OrderEvent.objects.filter(order_id=order["id"]).count() == 2


@pytest.mark.parametrize("whose", ["someone-elses", "unknown"])
def test_order_detail_and_cancel_of_an_order_that_is_not_yours_are_404(auth_client, whose):
    other = stored_order(CourseFactory().tutor, CourseFactory(), status=OrderStatus.PENDING)
    order_id = other.pk if whose == "someone-elses" else 999_999

    assert_error_envelope(auth_client.get(f"{ORDERS}{order_id}/"), 404, "not_found")
    assert_error_envelope(auth_client.post(f"{ORDERS}{order_id}/cancel/"), 404, "not_found")

    assert Order.objects.get(pk=other.pk).status == OrderStatus.PENDING
    assert not OrderEvent.objects.exists()


def test_cancelling_a_pending_order_is_200_and_cancels_its_payment(auth_client, user):
    order = place(auth_client, items(CourseFactory())).json()
    started = payment_start(auth_client, order["id"])

    response = auth_client.post(f"{ORDERS}{order['id']}/cancel/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert body["status"] == "cancelled"
    assert body["closed_at"] is not None
    assert (body["events"][-1]["type"], body["events"][-1]["to_status"]) == (
        "cancelled",
        "cancelled",
    )
    assert [payment["status"] for payment in body["payments"]] == ["cancelled"]
    stored = Order.objects.get(pk=order["id"])
    assert (stored.status, stored.closed_at is not None) == (OrderStatus.CANCELLED, True)
    assert Payment.objects.get(pk=started["payment"]["id"]).status == PaymentStatus.CANCELLED


def test_cancelling_twice_is_409_order_not_cancellable(auth_client, user):
    order = place(auth_client, items(CourseFactory())).json()
    assert auth_client.post(f"{ORDERS}{order['id']}/cancel/").status_code == 200
    closed_at = Order.objects.get(pk=order["id"]).closed_at

    response = auth_client.post(f"{ORDERS}{order['id']}/cancel/")

    assert_error_envelope(response, 409, "order_not_cancellable")
    stored = Order.objects.get(pk=order["id"])
    assert (stored.status, stored.closed_at) == (OrderStatus.CANCELLED, closed_at)
    assert OrderEvent.objects.filter(order=stored, type="cancelled").count() == 1


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.FAILED])
def test_cancelling_a_settled_or_failed_order_is_409_order_not_cancellable(
    auth_client, user, status
):
    order = stored_order(user, CourseFactory(), status=status)

    assert_error_envelope(
        auth_client.post(f"{ORDERS}{order.pk}/cancel/"), 409, "order_not_cancellable"
    )

    assert Order.objects.get(pk=order.pk).status == status
    assert not OrderEvent.objects.exists()


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.REFUNDED])
@pytest.mark.parametrize("kind", ["course", "curriculum"])
def test_an_ordered_course_or_curriculum_cannot_be_deleted_409(user, status, kind):
    """Found by `make fuzz`: once the refund had revoked the enrollment, deleting the course hit
    the order line's PROTECT and answered 500."""
    product = CourseFactory() if kind == "course" else CurriculumFactory()
    stored_order(user, product, status=status)

    response = client_for(product.tutor).delete(f"/api/{kind}s/{product.pk}/")

    assert_error_envelope(response, 409, f"{kind}_has_orders")
    assert type(product).objects.filter(pk=product.pk).exists()
    assert OrderLine.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ORDERS), ("post", ORDERS), ("get", ORDERS + "{}/"), ("post", ORDERS + "{}/cancel/")],
)
def test_anonymous_is_401(api_client, method, path):
    order = stored_order(CourseFactory().tutor, CourseFactory(), status=OrderStatus.PENDING)

    response = getattr(api_client, method)(path.format(order.pk), items(CourseFactory()))

    assert_error_envelope(response, 401, "not_authenticated")
    assert list(Order.objects.values_list("pk", "status")) == [(order.pk, "pending")]

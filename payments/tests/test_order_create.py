"""POST /api/orders/ (API.md's order rows): a price snapshot of the cart or of given items,
what is refused and why, one pending order per user, and idempotent creation."""

import pytest

from accounts.testing import client_for
from core.models import IdempotencyRecord
from core.testing import assert_error_envelope
from courses.models import Course
from courses.tests.factories import CourseFactory, EnrollmentFactory
from payments.models import CartItem, Order, OrderEvent, OrderStatus, Payment, PaymentStatus
from payments.tests.factories import BillingAddressFactory, CurriculumFactory
from payments.tests.flows import ORDER_FIELDS, ORDERS, items, payment_start, place, stored_order

pytestmark = pytest.mark.django_db

LINE_FIELDS = {"id", "kind", "course", "curriculum", "title", "price"}
SNAPSHOT_FIELDS = {"id", "name", "phone", "email", "country", "postal_code", "line1", "line2"}


def snapshot_of(address) -> dict:
    return {field: getattr(address, field) for field in SNAPSHOT_FIELDS - {"id"}} | {
        "id": address.pk
    }


@pytest.fixture
def no_limit(settings):
    settings.ORDER_MAX_TOTAL = 0


def test_an_order_from_the_cart_is_201_with_a_price_snapshot(auth_client, user, no_limit):
    course = CourseFactory(title="Django", price=30000)
    curriculum = CurriculumFactory(title="Web track", price=40000)
    CartItem.objects.create(user=user, course=course)
    CartItem.objects.create(user=user, curriculum=curriculum)
    address = BillingAddressFactory(user=user, is_default=True, email="minji@example.com")
    BillingAddressFactory(user=user, name="Not the default")

    response = place(auth_client, {"from_cart": True})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ORDER_FIELDS
    assert (body["status"], body["total"], body["currency"]) == ("pending", 70000, "KRW")
    assert (body["paid_at"], body["closed_at"]) == (None, None)
    assert all(set(line) == LINE_FIELDS for line in body["lines"])
    assert [
        (line["kind"], line["course"], line["curriculum"], line["title"], line["price"])
        for line in body["lines"]
    ] == [
        ("course", course.pk, None, "Django", 30000),
        ("curriculum", None, curriculum.pk, "Web track", 40000),
    ]
    assert body["billing_address"] == snapshot_of(address)
    order = Order.objects.get(pk=body["id"])
    assert (order.user, order.status, order.total, order.currency) == (
        user,
        "pending",
        70000,
        "KRW",
    )
    assert order.billing_address == snapshot_of(address)
    assert list(order.lines.values_list("title", "price")) == [
        ("Django", 30000),
        ("Web track", 40000),
    ]
    assert list(order.events.values_list("type", "to_status")) == [("created", "pending")]
    # The cart empties when the order is paid, not when it is placed.
    assert CartItem.objects.filter(user=user).count() == 2


def test_an_order_of_given_items_keeps_their_order_and_ignores_the_cart(
    auth_client, user, no_limit
):
    first, second = CourseFactory(price=10000), CourseFactory(price=20000)
    curriculum = CurriculumFactory(price=5000)
    CartItem.objects.create(user=user, course=CourseFactory())

    response = place(auth_client, items(second, curriculum, first))

    assert response.status_code == 201, response.content
    body = response.json()
    assert [(line["course"], line["curriculum"]) for line in body["lines"]] == [
        (second.pk, None),
        (None, curriculum.pk),
        (first.pk, None),
    ]
    assert body["total"] == 35000
    assert body["billing_address"] is None  # the user has no address
    assert Order.objects.get().lines.count() == 3


def test_an_explicit_billing_address_is_copied_instead_of_the_default(auth_client, user):
    BillingAddressFactory(user=user, is_default=True)
    chosen = BillingAddressFactory(user=user, name="김민지", line1="서울 강남구 테헤란로 1")

    response = place(auth_client, {**items(CourseFactory()), "billing_address": chosen.pk})

    assert response.status_code == 201, response.content
    assert response.json()["billing_address"] == snapshot_of(chosen)
    assert Order.objects.get().billing_address == snapshot_of(chosen)


def test_the_billing_snapshot_does_not_follow_later_address_edits(auth_client, user):
    address = BillingAddressFactory(user=user, is_default=True, line1="Old street 1")
    order_id = place(auth_client, items(CourseFactory())).json()["id"]

    address.line1 = "New street 2"
    address.save()

    body = auth_client.get(f"{ORDERS}{order_id}/").json()
    assert body["billing_address"]["line1"] == "Old street 1"
    assert Order.objects.get(pk=order_id).billing_address["line1"] == "Old street 1"


@pytest.mark.parametrize("whose", ["someone-elses", "unknown"])
def test_a_billing_address_that_is_not_yours_is_400(auth_client, user, whose):
    BillingAddressFactory(user=user, is_default=True)
    address_id = BillingAddressFactory().pk if whose == "someone-elses" else 999_999

    response = place(auth_client, {**items(CourseFactory()), "billing_address": address_id})

    # validation_error like every other field error (it was `invalid`, "Invalid input.").
    error = assert_error_envelope(response, 400, "validation_error")
    assert error["fields"] == {"billing_address": ["Not one of your billing addresses."]}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"from_cart": False},
        {"from_cart": True, "items": [{"course": 1}]},
        {"from_cart": False, "items": "course"},
        {"items": [{}]},
        {"items": [{"course": n} for n in range(1, 52)]},
    ],
    ids=[
        "neither",
        "from-cart-false",
        "both",
        "items-not-a-list",
        "item-without-product",
        "over-50-items",
    ],
)
def test_not_exactly_one_of_from_cart_or_items_is_400_with_fields(auth_client, user, body):
    CartItem.objects.create(user=user, course=CourseFactory())

    error = assert_error_envelope(place(auth_client, body), 400, "validation_error")

    assert error["fields"], error
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [({"from_cart": True}, []), ({"items": []}, ["items"])],
    ids=["empty-cart", "no-items"],
)
def test_an_order_of_nothing_is_400_empty_order(auth_client, user, body, fields):
    CartItem.objects.create(user=CourseFactory().tutor, course=CourseFactory())  # not theirs

    error = assert_error_envelope(place(auth_client, body), 400, "empty_order")

    assert list(error["fields"]) == fields
    assert not Order.objects.exists()


def test_an_item_not_for_sale_is_400_naming_its_position(auth_client):
    on_sale, draft = CourseFactory(), CourseFactory(is_published=False)

    error = assert_error_envelope(place(auth_client, items(on_sale, draft)), 400, "not_for_sale")

    assert list(error["fields"]) == ["items[1].course"]
    assert not Order.objects.exists()


def _same_course_twice():
    course = CourseFactory()
    return course, course


def _same_curriculum_twice():
    curriculum = CurriculumFactory(courses=[CourseFactory()])
    return curriculum, curriculum


def _curriculum_then_its_course():
    course = CourseFactory()
    return CurriculumFactory(courses=[course]), course


def _course_then_its_curriculum():
    course = CourseFactory()
    return course, CurriculumFactory(courses=[course])


def _curriculums_sharing_a_course():
    shared = CourseFactory()
    return (
        CurriculumFactory(courses=[shared, CourseFactory()]),
        CurriculumFactory(courses=[CourseFactory(), shared]),
    )


@pytest.mark.parametrize(
    "products",
    [
        _same_course_twice,
        _same_curriculum_twice,
        _curriculum_then_its_course,
        _course_then_its_curriculum,
        _curriculums_sharing_a_course,
    ],
)
def test_a_product_listed_twice_is_400_duplicate_item(auth_client, no_limit, products):
    error = assert_error_envelope(place(auth_client, items(*products())), 400, "duplicate_item")

    assert list(error["fields"]) == ["items[1]"]
    assert not Order.objects.exists()


@pytest.mark.parametrize("source", ["items", "cart"])
def test_an_owned_course_is_409_already_owned(auth_client, user, source):
    course = CourseFactory()
    CartItem.objects.create(user=user, course=course)
    EnrollmentFactory(user=user, course=course)  # e.g. granted by staff after it was added
    body = {"from_cart": True} if source == "cart" else items(course)

    assert_error_envelope(place(auth_client, body), 409, "already_owned")

    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("limit", "prices", "code"),
    [
        (50000, [30000, 20001], "order_limit_exceeded"),
        (50000, [30000, 20000], None),
        (10000, [10001], "order_limit_exceeded"),
        (0, [90000, 90000, 90000], None),
    ],
    ids=["over", "exactly-at", "lower-limit", "zero-is-unlimited"],
)
def test_the_order_total_limit(auth_client, settings, limit, prices, code):
    settings.ORDER_MAX_TOTAL = limit
    products = [CourseFactory(price=price) for price in prices]

    response = place(auth_client, items(*products))

    if code:
        error = assert_error_envelope(response, 400, code)
        assert f"{limit:,}" in error["message"]
        assert f"{sum(prices):,}" in error["message"]
        assert not Order.objects.exists()
    else:
        assert response.status_code == 201, response.content
        assert response.json()["total"] == sum(prices)
        assert Order.objects.get().total == sum(prices)


def test_a_new_order_cancels_the_previous_pending_one_and_its_payment(auth_client, user):
    first = place(auth_client, items(CourseFactory())).json()
    started = payment_start(auth_client, first["id"])

    response = place(auth_client, items(CourseFactory()))

    assert response.status_code == 201, response.content
    second = response.json()
    assert second["status"] == "pending"
    previous = auth_client.get(f"{ORDERS}{first['id']}/").json()
    assert previous["status"] == "cancelled"
    assert previous["closed_at"] is not None
    assert [(e["type"], e["from_status"], e["to_status"]) for e in previous["events"]] == [
        ("created", "", "pending"),
        ("payment_started", "", ""),
        ("superseded", "pending", "cancelled"),
    ]
    assert [p["status"] for p in previous["payments"]] == ["cancelled"]
    assert Order.objects.get(pk=first["id"]).status == OrderStatus.CANCELLED
    assert Payment.objects.get(pk=started["payment"]["id"]).status == PaymentStatus.CANCELLED
    assert list(Order.objects.filter(status=OrderStatus.PENDING).values_list("pk", flat=True)) == [
        second["id"]
    ]


def test_a_refused_new_order_leaves_the_pending_one_alone(auth_client, user, settings):
    settings.ORDER_MAX_TOTAL = 50000
    first = place(auth_client, items(CourseFactory())).json()

    response = place(auth_client, items(CourseFactory(price=60000)))

    assert_error_envelope(response, 400, "order_limit_exceeded")
    assert list(Order.objects.values_list("pk", "status")) == [(first["id"], "pending")]
    assert not OrderEvent.objects.filter(type="superseded").exists()


def test_a_new_order_leaves_paid_orders_and_other_users_pending_orders_alone(auth_client, user):
    paid = stored_order(user, CourseFactory(), status=OrderStatus.PAID)
    stranger = CourseFactory().tutor
    theirs = stored_order(stranger, CourseFactory(), status=OrderStatus.PENDING)

    assert place(auth_client, items(CourseFactory())).status_code == 201

    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.PENDING


def test_a_later_price_change_does_not_change_the_order(auth_client, user, no_limit):
    course = CourseFactory(title="Django", price=30000)
    curriculum = CurriculumFactory(title="Web track", price=40000)
    order = place(auth_client, items(course, curriculum)).json()

    Course.objects.filter(pk=course.pk).update(price=99000, title="Django 2")
    curriculum.price = 1000
    curriculum.save()

    body = auth_client.get(f"{ORDERS}{order['id']}/").json()
    assert body["total"] == 70000
    assert [(line["title"], line["price"]) for line in body["lines"]] == [
        ("Django", 30000),
        ("Web track", 40000),
    ]
    stored = Order.objects.get(pk=order["id"])
    assert stored.total == 70000
    assert list(stored.lines.values_list("price", flat=True)) == [30000, 40000]
    # and paying it is refused rather than charging a stale price: the new total is given
    response = auth_client.post(
        "/api/payments/", {"order": order["id"], "provider": "sandbox"}, format="json"
    )
    error = assert_error_envelope(response, 409, "price_changed")
    assert error["fields"] == {
        "total": ["100000"],
        "lines[0].price": ["99000"],
        "lines[1].price": ["1000"],
    }
    assert not stored.payments.exists()


def test_the_same_key_and_body_replays_the_first_order(auth_client, user):
    body = items(CourseFactory())
    first = place(auth_client, body, HTTP_IDEMPOTENCY_KEY="order-1")

    again = place(auth_client, body, HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert Order.objects.count() == 1
    assert Order.objects.get().status == OrderStatus.PENDING  # not superseded by a second run


def test_the_same_key_with_another_body_is_409_idempotency_key_reused(auth_client, user):
    first = place(auth_client, items(CourseFactory()), HTTP_IDEMPOTENCY_KEY="order-1")

    response = place(auth_client, items(CourseFactory()), HTTP_IDEMPOTENCY_KEY="order-1")

    assert_error_envelope(response, 409, "idempotency_key_reused")
    assert list(Order.objects.values_list("pk", "status")) == [(first.json()["id"], "pending")]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"items": []}, "empty_order", "items"),
        ({"items": [{"course": 999_999}]}, "not_for_sale", "items[0].course"),
    ],
)
def test_a_refused_order_under_a_key_is_stored_and_replayed(auth_client, user, body, code, field):
    """Found by `make fuzz`: field messages of domain errors were lazy strings, so storing the
    400 for replay crashed with a 500 and left the key claimed."""
    first = place(auth_client, body, HTTP_IDEMPOTENCY_KEY="order-1")
    again = place(auth_client, body, HTTP_IDEMPOTENCY_KEY="order-1")

    error = assert_error_envelope(first, 400, code)
    assert list(error["fields"]) == [field]
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.get().status_code == 400
    assert not Order.objects.exists()


def test_another_user_may_use_the_same_key(auth_client, user):
    body = items(CourseFactory())
    mine = place(auth_client, body, HTTP_IDEMPOTENCY_KEY="order-1")

    theirs = place(client_for(CourseFactory().tutor), body, HTTP_IDEMPOTENCY_KEY="order-1")

    assert mine.status_code == theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert theirs.json()["id"] != mine.json()["id"]
    assert Order.objects.count() == 2
    assert IdempotencyRecord.objects.count() == 2

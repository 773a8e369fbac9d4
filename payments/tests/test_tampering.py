"""Attempts to pay less, touch another user's purchases, replay tokens or refund out of turn are
refused, and the database shows that nothing changed."""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db.models import F

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from courses.models import Course, Enrollment
from courses.tests.factories import CourseFactory
from payments.models import (
    BillingAddress,
    CartItem,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    SandboxTransaction,
)
from payments.tests.factories import BillingAddressFactory, CurriculumFactory
from payments.tests.flows import (
    PAYMENT_FIELDS,
    approve,
    buy_with_sandbox,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)

pytestmark = pytest.mark.django_db


def commerce_rows() -> dict[str, list[dict]]:
    """Every row a request to the commerce API could change, field by field."""
    models = (
        Order,
        OrderLine,
        OrderEvent,
        Payment,
        SandboxTransaction,
        Enrollment,
        CartItem,
        BillingAddress,
        Course,
    )
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


@dataclass(frozen=True)
class Purchases:
    """One user's commerce rows: a paid payment, a pending one with its pg_token, a cart item
    and a billing address."""

    user: object
    paid: dict
    order: dict
    pending: dict
    pg_token: str
    cart_item: int
    address: int

    def format(self, template: str) -> str:
        return template.format(
            paid=self.paid["id"],
            paid_order=self.paid["order"],
            pending=self.pending["id"],
            order=self.order["id"],
            pg_token=self.pg_token,
            item=self.cart_item,
            address=self.address,
        )


@pytest.fixture
def victim() -> Purchases:
    owner = UserFactory()
    client = client_for(owner)
    address = BillingAddressFactory(user=owner, is_default=True)
    paid = buy_with_sandbox(client, CourseFactory(price=20000))
    order = order_for(client, CourseFactory(price=15000))
    started = payment_start(client, order["id"])
    token = pg_token_of(sandbox_authorise(client, started["redirect_url"]))
    item = CartItem.objects.create(user=owner, course=CourseFactory())
    return Purchases(owner, paid, order, started["payment"], token, item.pk, address.pk)


@pytest.fixture
def buyer_client(user):
    return client_for(user)


def send(client, method: str, path: str, body: dict | None = None):
    """GET carries its parameters in the path; other methods send `body` as JSON."""
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body or {}, format="json")


def started_payment(client, *courses) -> tuple[dict, dict, str]:
    """An order for `courses` with a sandbox payment waiting for approval, and its pg_token."""
    order = order_for(client, *courses)
    started = payment_start(client, order["id"])
    return order, started, pg_token_of(sandbox_authorise(client, started["redirect_url"]))


# --- someone else's ids -------------------------------------------------------------------------


def test_paying_for_someone_elses_order_is_404_and_starts_nothing(buyer_client, victim):
    before = commerce_rows()

    response = buyer_client.post(
        "/api/payments/", {"order": victim.order["id"], "provider": "sandbox"}, format="json"
    )

    assert_error_envelope(response, 404, "not_found")
    assert commerce_rows() == before


FOREIGN_REQUESTS = [
    pytest.param("get", "/api/payments/{pending}/", id="payment-detail"),
    pytest.param("get", "/api/payments/{paid}/", id="paid-payment-detail"),
    pytest.param("get", "/api/payments/{pending}/approve/?pg_token={pg_token}", id="approve"),
    pytest.param("get", "/api/payments/{pending}/cancel/", id="cancel-callback"),
    pytest.param("get", "/api/payments/{pending}/fail/", id="fail-callback"),
    pytest.param("post", "/api/payments/{paid}/refund/", id="refund"),
    pytest.param("get", "/api/receipts/{paid}/", id="receipt"),
    pytest.param("get", "/api/orders/{order}/", id="order-detail"),
    pytest.param("get", "/api/orders/{paid_order}/", id="paid-order-detail"),
    pytest.param("post", "/api/orders/{order}/cancel/", id="order-cancel"),
    pytest.param("delete", "/api/cart/items/{item}/", id="cart-item-delete"),
    pytest.param("get", "/api/billing-addresses/{address}/", id="address-detail"),
    pytest.param("patch", "/api/billing-addresses/{address}/", id="address-update"),
    pytest.param("delete", "/api/billing-addresses/{address}/", id="address-delete"),
]


@pytest.mark.parametrize(("method", "path"), FOREIGN_REQUESTS)
def test_someone_elses_purchase_is_404_and_nothing_changes(buyer_client, victim, method, path):
    """Even with the owner's valid pg_token: the id alone never reaches another user's rows."""
    before = commerce_rows()

    response = (
        getattr(buyer_client, method)(
            victim.format(path), {"name": "Mallory", "line1": "Elsewhere"}, format="json"
        )
        if method == "patch"
        else getattr(buyer_client, method)(victim.format(path))
    )

    assert_error_envelope(response, 404, "not_found")
    assert commerce_rows() == before


@pytest.mark.parametrize(
    "path", ["/api/orders/", "/api/receipts/", "/api/billing-addresses/", "/api/cart/"]
)
def test_lists_never_show_someone_elses_rows(buyer_client, victim, path):
    response = buyer_client.get(path)

    assert response.status_code == 200
    body = response.json()
    rows = body["items"] if path == "/api/cart/" else body["results"]
    assert rows == []
    assert (body["count"], body.get("total", 0)) == (0, 0)


def test_ordering_with_someone_elses_billing_address_is_400_and_creates_nothing(
    buyer_client, victim
):
    course = CourseFactory()
    before = commerce_rows()

    response = buyer_client.post(
        "/api/orders/",
        {"items": [{"course": course.pk}], "billing_address": victim.address},
        format="json",
    )

    error = assert_error_envelope(response, 400)
    assert list(error["fields"]) == ["billing_address"]
    assert commerce_rows() == before


# --- amounts from the client --------------------------------------------------------------------


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


# --- pg_token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("token_kind", ["made_up", "of_an_earlier_payment", "empty_looking"])
def test_a_wrong_pg_token_is_402_and_the_same_payment_can_still_be_approved(
    buyer_client, user, token_kind
):
    course = CourseFactory(price=30000)
    order, earlier, earlier_token = started_payment(buyer_client, course)
    started = payment_start(buyer_client, order["id"])
    payment_id = started["payment"]["id"]
    wrong = {"made_up": "0" * 20, "of_an_earlier_payment": earlier_token, "empty_looking": " "}

    refused = approve(buyer_client, payment_id, wrong[token_kind])

    if token_kind == "empty_looking":
        assert_error_envelope(refused, 400, "validation_error")
    else:
        assert_error_envelope(refused, 402, "approval_refused")
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.status, payment.failure_code) == (PaymentStatus.PENDING, "")
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.PENDING
    assert not SandboxTransaction.objects.filter(state="approved").exists()
    assert not Enrollment.objects.filter(user=user).exists()

    token = pg_token_of(sandbox_authorise(buyer_client, started["redirect_url"]))
    paid = approve(buyer_client, payment_id, token)

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "paid"
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.PAID
    assert list(SandboxTransaction.objects.filter(state="approved").values_list("amount")) == [
        (30000,)
    ]
    assert Enrollment.objects.get(user=user).course == course
    statuses = dict(Payment.objects.values_list("pk", "status"))
    assert statuses == {
        earlier["payment"]["id"]: PaymentStatus.CANCELLED,
        payment_id: PaymentStatus.PAID,
    }


def test_guessing_pg_tokens_fails_the_payment_on_the_fifth_and_a_new_payment_succeeds(
    buyer_client, user
):
    course = CourseFactory(price=30000)
    order, started, token = started_payment(buyer_client, course)
    payment_id = started["payment"]["id"]

    codes = [
        approve(buyer_client, payment_id, f"{n:020d}").json()["error"]["code"] for n in range(6)
    ]

    assert codes == ["approval_refused"] * 4 + ["payment_declined", "payment_not_pending"]
    payment = Payment.objects.get(pk=payment_id)
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "invalid_pg_token")
    assert_error_envelope(approve(buyer_client, payment_id, token), 409, "payment_not_pending")
    assert not SandboxTransaction.objects.filter(state="approved").exists()

    retry = payment_start(buyer_client, order["id"])
    token = pg_token_of(sandbox_authorise(buyer_client, retry["redirect_url"]))
    assert approve(buyer_client, retry["payment"]["id"], token).status_code == 200
    assert Enrollment.objects.get(user=user).course == course


# --- refunds ------------------------------------------------------------------------------------


def test_a_second_refund_is_409_already_refunded(buyer_client, user):
    paid = buy_with_sandbox(buyer_client, CourseFactory())
    first = buyer_client.post(f"/api/payments/{paid['id']}/refund/")
    assert first.status_code == 200, first.content
    before = commerce_rows()

    second = buyer_client.post(f"/api/payments/{paid['id']}/refund/")

    assert_error_envelope(second, 409, "already_refunded")
    assert commerce_rows() == before
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert SandboxTransaction.objects.get().state == SandboxTransaction.State.CANCELLED


@pytest.mark.parametrize(
    "callback", [None, "cancel", "fail"], ids=["pending", "cancelled", "failed"]
)
def test_refunding_an_unsettled_payment_is_409_payment_not_refundable(buyer_client, callback):
    _order, started, _token = started_payment(buyer_client, CourseFactory())
    payment_id = started["payment"]["id"]
    if callback:
        assert buyer_client.get(f"/api/payments/{payment_id}/{callback}/").status_code == 200
    before = commerce_rows()

    response = buyer_client.post(f"/api/payments/{payment_id}/refund/")

    assert_error_envelope(response, 409, "payment_not_refundable")
    assert commerce_rows() == before
    assert SandboxTransaction.objects.get().state == SandboxTransaction.State.READY


@pytest.mark.parametrize(
    ("who", "status_code", "code"),
    [("owner", 409, "refund_window_passed"), ("staff", 200, None), ("stranger", 404, "not_found")],
)
def test_after_the_refund_window_only_staff_may_refund(
    settings, user, staff, who, status_code, code
):
    settings.REFUND_WINDOW_DAYS = 7
    owner = UserFactory()
    owner_client = client_for(owner)
    paid = buy_with_sandbox(owner_client, CourseFactory())
    Payment.objects.filter(pk=paid["id"]).update(approved_at=F("approved_at") - timedelta(days=8))
    client = {"owner": owner_client, "staff": client_for(staff), "stranger": client_for(user)}[who]
    before = commerce_rows()

    response = client.post(f"/api/payments/{paid['id']}/refund/")

    if code:
        assert_error_envelope(response, status_code, code)
        assert commerce_rows() == before
        return
    assert response.status_code == 200, response.content
    assert set(response.json()) == PAYMENT_FIELDS
    assert response.json()["status"] == "refunded"
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert Order.objects.get().status == OrderStatus.REFUNDED
    assert SandboxTransaction.objects.get().state == SandboxTransaction.State.CANCELLED
    assert Enrollment.objects.get(user=owner).revoked_at is not None
    event = OrderEvent.objects.get(type="refunded")
    assert event.actor == staff


def test_the_owner_may_refund_within_the_window(settings, buyer_client, user):
    settings.REFUND_WINDOW_DAYS = 7
    paid = buy_with_sandbox(buyer_client, CourseFactory())
    Payment.objects.filter(pk=paid["id"]).update(approved_at=F("approved_at") - timedelta(days=6))

    response = buyer_client.post(f"/api/payments/{paid['id']}/refund/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "refunded"
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert Enrollment.objects.get(user=user).revoked_at is not None


# --- approve out of turn ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closing", "order_status"),
    [
        ("/api/payments/{payment}/cancel/", OrderStatus.PENDING),
        ("/api/orders/{order}/cancel/", OrderStatus.CANCELLED),
    ],
    ids=["payment-cancelled", "order-cancelled"],
)
def test_approving_after_a_cancel_is_409_payment_not_pending_and_charges_nothing(
    buyer_client, user, closing, order_status
):
    order, started, token = started_payment(buyer_client, CourseFactory())
    payment_id = started["payment"]["id"]
    closed = getattr(buyer_client, "get" if "payments" in closing else "post")(
        closing.format(payment=payment_id, order=order["id"])
    )
    assert closed.status_code == 200, closed.content
    before = commerce_rows()

    response = approve(buyer_client, payment_id, token)

    assert_error_envelope(response, 409, "payment_not_pending")
    assert commerce_rows() == before
    assert Payment.objects.get().status == PaymentStatus.CANCELLED
    assert Order.objects.get().status == order_status
    assert SandboxTransaction.objects.get().state == SandboxTransaction.State.READY
    assert not Enrollment.objects.filter(user=user).exists()


# --- the sandbox switched off -------------------------------------------------------------------


def test_the_sandbox_is_400_provider_not_available_when_not_enabled(settings, buyer_client, user):
    order = order_for(buyer_client, CourseFactory())
    settings.PAYMENT_PROVIDERS = ["kakaopay"]

    response = buyer_client.post(
        "/api/payments/", {"order": order["id"], "provider": "sandbox"}, format="json"
    )

    error = assert_error_envelope(response, 400, "provider_not_available")
    assert list(error["fields"]) == ["provider"]
    assert not Payment.objects.exists()
    assert not SandboxTransaction.objects.exists()
    assert Order.objects.get().status == OrderStatus.PENDING


@pytest.mark.parametrize("action", [None, "approve", "cancel", "fail"])
def test_the_sandbox_page_is_404_when_not_enabled(settings, buyer_client, action):
    _order, started, _token = started_payment(buyer_client, CourseFactory())
    settings.PAYMENT_PROVIDERS = ["kakaopay"]
    before = commerce_rows()

    response = buyer_client.get(
        urlparse(started["redirect_url"]).path, {"action": action} if action else {}
    )

    assert response.status_code == 404
    assert not response.has_header("Location")
    assert commerce_rows() == before


# --- anonymous ----------------------------------------------------------------------------------


EVERY_ENDPOINT = [
    ("get", "/api/cart/"),
    ("post", "/api/cart/items/"),
    ("delete", "/api/cart/items/{item}/"),
    ("get", "/api/orders/"),
    ("post", "/api/orders/"),
    ("get", "/api/orders/{order}/"),
    ("post", "/api/orders/{order}/cancel/"),
    ("get", "/api/billing-addresses/"),
    ("post", "/api/billing-addresses/"),
    ("get", "/api/billing-addresses/{address}/"),
    ("patch", "/api/billing-addresses/{address}/"),
    ("delete", "/api/billing-addresses/{address}/"),
    ("post", "/api/payments/"),
    ("get", "/api/payments/{pending}/"),
    ("get", "/api/payments/{pending}/approve/?pg_token={pg_token}"),
    ("get", "/api/payments/{pending}/cancel/"),
    ("get", "/api/payments/{pending}/fail/"),
    ("post", "/api/payments/{paid}/refund/"),
    ("get", "/api/receipts/"),
    ("get", "/api/receipts/{paid}/"),
]


@pytest.mark.parametrize("credentials", [None, "Bearer not-a-token"], ids=["none", "bad"])
def test_every_commerce_endpoint_is_401_without_valid_credentials(api_client, victim, credentials):
    if credentials:
        api_client.credentials(HTTP_AUTHORIZATION=credentials)
    body = {"order": victim.order["id"], "provider": "sandbox", "course": CourseFactory().pk}
    before = commerce_rows()

    for method, path in EVERY_ENDPOINT:
        response = send(api_client, method, victim.format(path), body)

        assert_error_envelope(response, 401)
    assert commerce_rows() == before

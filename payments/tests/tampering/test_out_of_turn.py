"""Replayed or guessed pg_tokens, refunds and approvals out of turn, and the sandbox switched
off are refused, and the database shows that nothing changed."""

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.db.models import F

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from payments.models import (
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentStatus,
    SandboxTransaction,
)
from payments.tests.flows import (
    PAYMENT_FIELDS,
    approve,
    buy_with_sandbox,
    commerce_rows,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
    started_payment,
)

pytestmark = pytest.mark.django_db


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

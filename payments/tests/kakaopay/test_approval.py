"""Approving a KakaoPay payment through our API: one charge, amount mismatches, outages and
lost answers settled by the order lookup, refusals and declines, odd answers."""

import json
from datetime import datetime, timedelta

import pytest
import responses
from django.utils import timezone

from core.testing import assert_error_envelope
from courses.models import Enrollment, EnrollmentSource
from payments.models import Order, OrderStatus, Payment, PaymentStatus
from payments.providers.kakaopay import APPROVABLE_STATUSES
from payments.tests.flows import approve, payment_start
from payments.tests.kakaopay.stub import (
    AID,
    CID,
    KAKAOPAY,
    OUTAGES,
    PG_TOKEN,
    PRICE,
    SECRET_KEY_HEADER,
    TID,
    approve_answer,
    assert_still_payable,
    calls,
    cancel_answer,
    enrollments,
    not_json,
    ok,
    order_answer,
    outages,
    ready_answer,
    refusal,
    sent,
    started,
    stub,
)


@pytest.mark.parametrize("method", ["MONEY", "CARD"])
def test_approval_charges_the_order_once_and_grants_its_courses(
    auth_client, user, course, kakaopay, method
):
    payment = started(auth_client, kakaopay, course)
    approved_at = (timezone.now() - timedelta(seconds=5)).replace(microsecond=0)
    stub(kakaopay, "approve", ok(approve_answer(payment, method=method, approved_at=approved_at)))

    response = approve(auth_client, payment.pk, PG_TOKEN)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == payment.pk
    assert body["status"] == "paid"
    assert body["amount"] == PRICE
    assert body["method"] == method
    assert body["transaction_id"] == TID
    assert datetime.fromisoformat(body["approved_at"]) == approved_at
    [call] = calls(kakaopay, "approve")
    assert call.request.headers["Authorization"] == SECRET_KEY_HEADER
    assert json.loads(call.request.body) == {
        "cid": CID,
        "tid": TID,
        "partner_order_id": str(payment.order_id),
        "partner_user_id": str(user.pk),
        "pg_token": PG_TOKEN,
    }

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.approval_id == AID
    assert payment.method == method
    # KakaoPay writes Korean time without an offset: read as UTC it would be nine hours off.
    assert payment.approved_at == approved_at
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.PAID
    assert order.paid_at is not None
    enrollment = Enrollment.objects.get(user=user, course=course)
    assert enrollment.reference == f"order:{order.pk}"
    assert enrollment.source == EnrollmentSource.PURCHASE
    assert enrollment.revoked_at is None
    expected_expiry = timezone.now() + timedelta(days=730)
    assert abs(enrollment.expires_at - expected_expiry) < timedelta(minutes=1)

    again = approve(auth_client, payment.pk, PG_TOKEN)
    assert again.status_code == 200, again.content
    assert again.json()["status"] == "paid"
    assert len(calls(kakaopay, "approve")) == 1
    assert enrollments(payment).count() == 1


@pytest.mark.parametrize("charged", [1, PRICE - 1, PRICE + 15000])
def test_amount_mismatch_fails_the_payment_and_reverses_the_charge(
    auth_client, course, kakaopay, charged
):
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", ok(approve_answer(payment, total=charged)))
    stub(kakaopay, "cancel", ok(cancel_answer(payment)))

    response = approve(auth_client, payment.pk, PG_TOKEN)

    assert_error_envelope(response, 409, "amount_mismatch")
    assert_still_payable(payment, PaymentStatus.FAILED)
    assert payment.failure_code == "amount_mismatch"
    assert sent(kakaopay, "cancel") == [
        {"cid": CID, "tid": TID, "cancel_amount": charged, "cancel_tax_free_amount": 0}
    ]
    assert calls(kakaopay, "cancel")[0].request.headers["Authorization"] == SECRET_KEY_HEADER
    assert len(calls(kakaopay, "approve")) == 1


@outages
def test_outage_on_approve_changes_nothing_and_a_retry_succeeds(
    auth_client, course, kakaopay, outage
):
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", outage(), ok(approve_answer(payment)))

    response = approve(auth_client, payment.pk, PG_TOKEN)

    assert_error_envelope(response, 502, "payment_provider_unavailable")
    assert_still_payable(payment)
    assert len(calls(kakaopay, "approve")) == 1

    retry = approve(auth_client, payment.pk, PG_TOKEN)

    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == "paid"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    assert enrollments(payment).count() == 1
    assert len(calls(kakaopay, "approve")) == 2
    assert sent(kakaopay, "approve")[0] == sent(kakaopay, "approve")[1]


def test_lost_approve_answer_is_settled_from_the_order_lookup(auth_client, course, kakaopay):
    payment = started(auth_client, kakaopay, course)
    stub(
        kakaopay,
        "approve",
        OUTAGES["read-timeout"](),
        refusal("ALREADY_APPROVED", "이미 승인된 결제입니다."),
    )
    stub(kakaopay, "order", ok(order_answer(payment, "SUCCESS_PAYMENT")))

    lost = approve(auth_client, payment.pk, PG_TOKEN)
    assert_error_envelope(lost, 502, "payment_provider_unavailable")
    assert_still_payable(payment)

    retry = approve(auth_client, payment.pk, PG_TOKEN)

    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == "paid"
    assert retry.json()["amount"] == PRICE
    assert sent(kakaopay, "order") == [{"cid": CID, "tid": TID}]
    assert calls(kakaopay, "order")[0].request.headers["Authorization"] == SECRET_KEY_HEADER
    assert len(calls(kakaopay, "approve")) == 2
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.approval_id == AID
    assert payment.method == "MONEY"
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    assert enrollments(payment).count() == 1

    assert approve(auth_client, payment.pk, PG_TOKEN).status_code == 200
    assert len(calls(kakaopay, "approve")) == 2
    assert enrollments(payment).count() == 1


@pytest.mark.parametrize("lookup", sorted(APPROVABLE_STATUSES))
def test_a_refused_approval_keeps_the_payment_pending_while_kakaopay_can_still_approve_it(
    auth_client, course, kakaopay, lookup
):
    """A wrong pg_token (or a buyer who has not finished at KakaoPay yet) must not end a payment
    KakaoPay would still approve: 402, pending, and the right pg_token then settles it."""
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", refusal("INVALID_PARAMS", "pg_token이 유효하지 않습니다."))
    stub(kakaopay, "order", ok(order_answer(payment, lookup)))

    response = approve(auth_client, payment.pk, "wrong-pg-token")

    error = assert_error_envelope(response, 402, "approval_refused")
    assert "pg_token이 유효하지 않습니다." in error["message"]
    assert_still_payable(payment)
    assert payment.failure_code == ""
    assert sent(kakaopay, "order") == [{"cid": CID, "tid": TID}]
    assert (
        Order.objects.get(pk=payment.order_id).events.filter(type="approval_refused").count() == 1
    )

    kakaopay.replace(responses.POST, f"{KAKAOPAY}/approve", **ok(approve_answer(payment)))
    retry = approve(auth_client, payment.pk, PG_TOKEN)

    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == "paid"
    assert [call["pg_token"] for call in sent(kakaopay, "approve")] == ["wrong-pg-token", PG_TOKEN]
    assert enrollments(payment).count() == 1


def test_the_fifth_refused_approval_fails_the_payment(auth_client, course, kakaopay):
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", refusal("INVALID_PARAMS", "pg_token이 유효하지 않습니다."))
    stub(kakaopay, "order", ok(order_answer(payment, "AUTH_PASSWORD")))

    codes = [
        approve(auth_client, payment.pk, f"wrong-{n}").json()["error"]["code"] for n in range(6)
    ]

    assert codes == ["approval_refused"] * 4 + ["payment_declined", "payment_not_pending"]
    assert_still_payable(payment, PaymentStatus.FAILED)
    assert len(calls(kakaopay, "approve")) == 5


@pytest.mark.parametrize(
    ("error_code", "message", "lookup"),
    [
        ("INVALID_PARAMS", "pg_token이 유효하지 않습니다.", "QUIT_PAYMENT"),
        ("PAYMENT_NOT_READY", "결제 준비 상태가 아닙니다.", "FAIL_PAYMENT"),
        ("APPROVAL_FAILED", "잔액이 부족합니다.", "FAIL_AUTH_PASSWORD"),
        ("APPROVAL_FAILED", "잔액이 부족합니다.", "CANCEL_PAYMENT"),
    ],
)
def test_declined_approval_fails_the_payment_and_the_order_stays_payable(
    auth_client, course, kakaopay, error_code, message, lookup
):
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", refusal(error_code, message))
    stub(kakaopay, "order", ok(order_answer(payment, lookup)))

    response = approve(auth_client, payment.pk, PG_TOKEN)

    error = assert_error_envelope(response, 402, "payment_declined")
    assert message in error["message"]
    assert_still_payable(payment, PaymentStatus.FAILED)
    assert payment.failure_code == error_code
    assert payment.failure_message == message
    assert len(calls(kakaopay, "order")) == 1
    assert len(calls(kakaopay, "cancel")) == 0

    stub(kakaopay, "ready", ok(ready_answer("T9876543210987654321")))
    again = payment_start(auth_client, payment.order_id, "kakaopay")
    assert again["payment"]["status"] == "pending"
    assert again["payment"]["transaction_id"] == "T9876543210987654321"
    assert Payment.objects.filter(order_id=payment.order_id).count() == 2


def _with_amount(payment: Payment, amount) -> dict:
    return ok({**approve_answer(payment), "amount": amount})


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda payment: not_json(), id="not-json"),
        pytest.param(lambda payment: ok({}), id="empty-object"),
        pytest.param(lambda payment: _with_amount(payment, {"total": str(PRICE)}), id="text"),
        pytest.param(lambda payment: _with_amount(payment, {"total": 3e4}), id="float"),
        pytest.param(lambda payment: _with_amount(payment, {"total": True}), id="bool"),
        pytest.param(lambda payment: _with_amount(payment, None), id="no-amount"),
        pytest.param(lambda payment: _with_amount(payment, [PRICE]), id="amount-list"),
    ],
)
def test_unreadable_approval_is_not_settled_and_a_retry_settles_it(
    auth_client, course, kakaopay, answer
):
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", answer(payment), refusal("ALREADY_APPROVED", "이미 승인된 결제"))
    stub(kakaopay, "order", ok(order_answer(payment, "SUCCESS_PAYMENT")))
    stub(kakaopay, "cancel", ok(cancel_answer(payment)))

    response = approve(auth_client, payment.pk, PG_TOKEN)

    # The charge may have happened, so it is neither granted nor failed: the outcome is unknown.
    assert_error_envelope(response, 502, "payment_provider_unavailable")
    assert_still_payable(payment)
    assert not calls(kakaopay, "cancel")

    retry = approve(auth_client, payment.pk, PG_TOKEN)

    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == "paid"
    assert len(calls(kakaopay, "order")) == 1
    assert enrollments(payment).count() == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"approved_at": 20240715211840}, id="approved-at-number"),
        pytest.param({"approved_at": "yesterday"}, id="approved-at-text"),
        pytest.param({"aid": None, "payment_method_type": None}, id="nulls"),
    ],
)
def test_approval_with_odd_details_is_settled_by_its_amount(auth_client, course, kakaopay, change):
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", ok({**approve_answer(payment), **change}))

    response = approve(auth_client, payment.pk, PG_TOKEN)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert abs(payment.approved_at - timezone.now()) < timedelta(minutes=1)
    assert enrollments(payment).count() == 1


@pytest.mark.parametrize(
    ("lookup", "status_code"),
    [
        pytest.param(lambda payment: not_json(), 502, id="not-json"),
        pytest.param(lambda payment: ok({"status": None}), 402, id="no-status"),
        pytest.param(
            lambda payment: ok({**order_answer(payment, "SUCCESS_PAYMENT"), "amount": "30000"}),
            502,
            id="amount-text",
        ),
        pytest.param(
            lambda payment: ok(
                {**order_answer(payment, "SUCCESS_PAYMENT"), "payment_action_details": {"a": 1}}
            ),
            200,
            id="details-object",
        ),
        pytest.param(
            lambda payment: ok(
                {**order_answer(payment, "SUCCESS_PAYMENT"), "payment_action_details": ["x"]}
            ),
            200,
            id="details-not-objects",
        ),
    ],
)
def test_malformed_order_lookup_never_becomes_a_server_error(
    auth_client, course, kakaopay, lookup, status_code
):
    payment = started(auth_client, kakaopay, course)
    stub(kakaopay, "approve", refusal("ALREADY_APPROVED", "이미 승인된 결제입니다."))
    stub(kakaopay, "order", lookup(payment))

    response = approve(auth_client, payment.pk, PG_TOKEN)

    assert response.status_code == status_code, response.content
    payment.refresh_from_db()
    expected = {200: PaymentStatus.PAID, 402: PaymentStatus.FAILED, 502: PaymentStatus.PENDING}
    assert payment.status == expected[status_code]
    assert enrollments(payment).count() == (1 if status_code == 200 else 0)
    assert len(calls(kakaopay, "order")) == 1

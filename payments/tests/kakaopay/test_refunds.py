"""Refunding a KakaoPay payment through our API: the whole amount back once, refusals, outages
and lost answers, the refund window, odd answers."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.testing import client_for
from core.testing import assert_error_envelope
from payments.models import Order, OrderStatus, PaymentStatus
from payments.tests.kakaopay.stub import (
    CID,
    OUTAGES,
    PRICE,
    SECRET_KEY_HEADER,
    TID,
    assert_still_paid,
    calls,
    cancel_answer,
    enrollments,
    not_json,
    ok,
    order_answer,
    outages,
    paid,
    refusal,
    sent,
    stub,
)


@pytest.mark.parametrize("by_staff", [False, True], ids=["owner", "staff"])
def test_refund_cancels_the_whole_payment_and_revokes_the_courses(
    auth_client, staff, course, kakaopay, by_staff
):
    payment = paid(auth_client, kakaopay, course)
    stub(kakaopay, "cancel", ok(cancel_answer(payment)))
    client = client_for(staff) if by_staff else auth_client

    response = client.post(f"/api/payments/{payment.pk}/refund/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == payment.pk
    assert body["status"] == "refunded"
    assert body["refunded_at"] is not None
    [call] = calls(kakaopay, "cancel")
    assert call.request.headers["Authorization"] == SECRET_KEY_HEADER
    assert json.loads(call.request.body) == {
        "cid": CID,
        "tid": TID,
        "cancel_amount": PRICE,
        "cancel_tax_free_amount": 0,
    }
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_at is not None
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED
    [enrollment] = enrollments(payment)
    assert enrollment.revoked_at is not None


def test_second_refund_is_rejected_without_calling_kakaopay(auth_client, course, kakaopay):
    payment = paid(auth_client, kakaopay, course)
    stub(kakaopay, "cancel", ok(cancel_answer(payment)))
    first = auth_client.post(f"/api/payments/{payment.pk}/refund/")
    assert first.status_code == 200, first.content

    second = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert_error_envelope(second, 409, "already_refunded")
    assert len(calls(kakaopay, "cancel")) == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda: refusal("INVALID_PARAMS", "취소 금액이 잘못되었습니다."), id="400"),
        pytest.param(lambda: refusal("CANCEL_NOT_ALLOWED", "취소할 수 없습니다.", 403), id="403"),
    ],
)
def test_refund_refused_by_kakaopay_changes_nothing(auth_client, course, kakaopay, answer):
    payment = paid(auth_client, kakaopay, course)
    stub(kakaopay, "cancel", answer())
    stub(kakaopay, "order", ok(order_answer(payment, "SUCCESS_PAYMENT")))

    response = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert_error_envelope(response, 409, "refund_declined")
    assert_still_paid(payment)
    assert len(calls(kakaopay, "cancel")) == 1
    # The refusal is checked against the order, in case an earlier cancel went through.
    assert sent(kakaopay, "order") == [{"cid": CID, "tid": TID}]


def test_lost_refund_answer_is_settled_from_the_order_lookup(auth_client, course, kakaopay):
    payment = paid(auth_client, kakaopay, course)
    stub(
        kakaopay,
        "cancel",
        OUTAGES["read-timeout"](),
        refusal("ALREADY_CANCELED", "이미 취소된 결제입니다."),
    )
    stub(kakaopay, "order", ok(order_answer(payment, "CANCEL_PAYMENT")))
    lost = auth_client.post(f"/api/payments/{payment.pk}/refund/")
    assert_error_envelope(lost, 502, "payment_provider_unavailable")
    assert_still_paid(payment)

    retry = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == "refunded"
    assert sent(kakaopay, "order") == [{"cid": CID, "tid": TID}]
    assert len(calls(kakaopay, "cancel")) == 2
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED
    assert enrollments(payment).get().revoked_at is not None


def test_owner_refund_after_the_window_is_refused_without_calling_kakaopay(
    auth_client, course, kakaopay
):
    payment = paid(auth_client, kakaopay, course, approved_at=timezone.now() - timedelta(days=8))
    stub(kakaopay, "cancel", ok(cancel_answer(payment)))

    response = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert_error_envelope(response, 409, "refund_window_passed")
    assert not calls(kakaopay, "cancel")
    assert_still_paid(payment)


@outages
def test_outage_on_refund_keeps_the_payment_paid_and_a_retry_succeeds(
    auth_client, course, kakaopay, outage
):
    payment = paid(auth_client, kakaopay, course)
    stub(kakaopay, "cancel", outage(), ok(cancel_answer(payment)))

    response = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert_error_envelope(response, 502, "payment_provider_unavailable")
    assert_still_paid(payment)

    retry = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == "refunded"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert len(calls(kakaopay, "cancel")) == 2


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"canceled_amount": "30000", "approved_cancel_amount": None}, id="text"),
        pytest.param({"canceled_amount": {"total": "all"}}, id="total-text"),
        pytest.param({"approved_cancel_amount": [PRICE]}, id="list"),
        pytest.param({"canceled_at": 20240715212000}, id="canceled-at-number"),
    ],
)
def test_refund_with_odd_details_is_still_refunded(auth_client, course, kakaopay, change):
    payment = paid(auth_client, kakaopay, course)
    stub(kakaopay, "cancel", ok({**cancel_answer(payment), **change}))

    response = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "refunded"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert enrollments(payment).get().revoked_at is not None


def test_unreadable_refund_answer_keeps_the_payment_paid(auth_client, course, kakaopay):
    payment = paid(auth_client, kakaopay, course)
    stub(kakaopay, "cancel", not_json())

    response = auth_client.post(f"/api/payments/{payment.pk}/refund/")

    assert_error_envelope(response, 502, "payment_provider_unavailable")
    assert_still_paid(payment)
    assert len(calls(kakaopay, "cancel")) == 1

"""Starting a KakaoPay payment (`ready`) through our API: what is registered, what is refused
before KakaoPay is asked, and outages or malformed answers that leave no payment."""

import json

import pytest

from core.models import IdempotencyRecord
from core.testing import assert_error_envelope
from payments.models import Order, OrderStatus, Payment, PaymentStatus
from payments.tests.flows import approve, order_for, payment_start
from payments.tests.kakaopay.stub import (
    CALLBACKS,
    CHECKOUT_PAGE,
    CID,
    PG_TOKEN,
    PRICE,
    SECRET_KEY_HEADER,
    TID,
    approve_answer,
    calls,
    enrollments,
    not_json,
    ok,
    outages,
    ready_answer,
    refusal,
    sent,
    stub,
)


def test_start_registers_the_order_total_with_kakaopay(auth_client, user, course, kakaopay):
    order_id = order_for(auth_client, course)["id"]
    stub(kakaopay, "ready", ok(ready_answer()))

    response = auth_client.post(
        "/api/payments/", {"order": order_id, "provider": "kakaopay"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    payment = Payment.objects.get()
    assert set(body) == {"payment", "redirect_url", "redirect_urls"}
    assert body["redirect_url"] == f"{CHECKOUT_PAGE}/info"
    assert body["redirect_urls"] == {
        "pc": f"{CHECKOUT_PAGE}/info",
        "mobile": f"{CHECKOUT_PAGE}/mInfo",
        "app": f"{CHECKOUT_PAGE}/aInfo",
    }
    assert body["payment"]["id"] == payment.pk
    assert body["payment"]["provider"] == "kakaopay"
    assert body["payment"]["status"] == "pending"
    assert body["payment"]["transaction_id"] == TID
    assert body["payment"]["amount"] == PRICE

    [call] = calls(kakaopay, "ready")
    assert call.request.headers["Authorization"] == SECRET_KEY_HEADER
    assert call.request.headers["Content-Type"] == "application/json"
    order = Order.objects.get(pk=order_id)
    assert json.loads(call.request.body) == {
        "cid": CID,
        "partner_order_id": str(order.pk),
        "partner_user_id": str(user.pk),
        "item_name": course.title,
        "item_code": str(payment.pk),
        "quantity": 1,
        "total_amount": order.total,
        "tax_free_amount": 0,
        "approval_url": f"{CALLBACKS}/{payment.pk}/approve/",
        "cancel_url": f"{CALLBACKS}/{payment.pk}/cancel/",
        "fail_url": f"{CALLBACKS}/{payment.pk}/fail/",
    }
    assert order.total == PRICE
    assert payment.transaction_id == TID
    assert payment.redirect_url == f"{CHECKOUT_PAGE}/info"
    assert payment.status == PaymentStatus.PENDING
    assert payment.amount == order.total
    assert order.status == OrderStatus.PENDING


def test_amount_sent_by_the_client_is_ignored(auth_client, user, course, kakaopay):
    order_id = order_for(auth_client, course)["id"]
    stub(kakaopay, "ready", ok(ready_answer()))

    started_ = auth_client.post(
        "/api/payments/",
        {"order": order_id, "provider": "kakaopay", "amount": 1},
        format="json",
    )

    assert started_.status_code == 201, started_.content
    assert started_.json()["payment"]["amount"] == PRICE
    [ready] = sent(kakaopay, "ready")
    assert ready["total_amount"] == PRICE
    payment = Payment.objects.get()
    assert payment.amount == PRICE
    stub(kakaopay, "approve", ok(approve_answer(payment)))

    response = auth_client.post(
        f"/api/payments/{payment.pk}/approve/",
        {"pg_token": PG_TOKEN, "amount": 1},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"
    assert response.json()["amount"] == PRICE
    [approve_call] = sent(kakaopay, "approve")
    assert "amount" not in approve_call and "total_amount" not in approve_call
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.amount == PRICE
    assert Order.objects.get(pk=order_id).status == OrderStatus.PAID
    assert enrollments(payment).count() == 1


@pytest.mark.parametrize("new_price", [45000, 10000])
def test_price_change_after_ordering_is_409_before_kakaopay_is_asked(
    auth_client, course, kakaopay, new_price
):
    order_id = order_for(auth_client, course)["id"]
    course.price = new_price
    course.save()

    response = auth_client.post(
        "/api/payments/", {"order": order_id, "provider": "kakaopay"}, format="json"
    )

    error = assert_error_envelope(response, 409, "price_changed")
    assert error["fields"]["total"] == [str(new_price)]
    assert not calls(kakaopay, "ready")
    assert not Payment.objects.exists()
    assert Order.objects.get(pk=order_id).status == OrderStatus.PENDING


@pytest.mark.parametrize("new_price", [45000, 10000])
def test_price_change_after_the_payment_started_charges_the_ordered_price(
    auth_client, course, kakaopay, new_price
):
    """The buyer authorises the amount the payment was started with; it is honoured."""
    order_id = order_for(auth_client, course)["id"]
    stub(kakaopay, "ready", ok(ready_answer()))

    started_ = payment_start(auth_client, order_id, "kakaopay")
    course.price = new_price
    course.save()

    assert started_["payment"]["amount"] == PRICE
    [ready] = sent(kakaopay, "ready")
    assert ready["total_amount"] == PRICE == Order.objects.get(pk=order_id).total
    payment = Payment.objects.get()
    stub(kakaopay, "approve", ok(approve_answer(payment, total=PRICE)))
    response = approve(auth_client, payment.pk, PG_TOKEN)
    assert response.status_code == 200, response.content
    assert response.json()["amount"] == PRICE
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.amount == PRICE


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda: refusal("INVALID_PARAMS", "유효하지 않은 요청입니다."), id="400"),
        pytest.param(lambda: refusal("UNAUTHORIZED", "인증되지 않은 요청입니다.", 401), id="401"),
        pytest.param(lambda: not_json(403), id="403-html"),
    ],
)
def test_start_refused_by_kakaopay_is_declined_and_leaves_no_payment(
    auth_client, course, kakaopay, answer
):
    order_id = order_for(auth_client, course)["id"]
    stub(kakaopay, "ready", answer())

    response = auth_client.post(
        "/api/payments/", {"order": order_id, "provider": "kakaopay"}, format="json"
    )

    assert_error_envelope(response, 402, "payment_declined")
    assert not Payment.objects.exists()
    assert Order.objects.get(pk=order_id).status == OrderStatus.PENDING
    assert len(calls(kakaopay, "ready")) == 1


@outages
def test_outage_on_start_leaves_no_payment_and_a_retry_succeeds(
    auth_client, course, kakaopay, outage
):
    order_id = order_for(auth_client, course)["id"]
    stub(kakaopay, "ready", outage(), ok(ready_answer()))
    body = {"order": order_id, "provider": "kakaopay"}

    response = auth_client.post("/api/payments/", body, format="json")

    assert_error_envelope(response, 502, "payment_provider_unavailable")
    assert not Payment.objects.exists()
    assert Order.objects.get(pk=order_id).status == OrderStatus.PENDING

    retry = auth_client.post("/api/payments/", body, format="json")

    assert retry.status_code == 201, retry.content
    assert retry.json()["payment"]["transaction_id"] == TID
    assert Payment.objects.get().status == PaymentStatus.PENDING
    assert len(calls(kakaopay, "ready")) == 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(not_json(), id="not-json"),
        pytest.param(ok([ready_answer()]), id="json-list"),
        pytest.param(ok({k: v for k, v in ready_answer().items() if k != "tid"}), id="no-tid"),
        pytest.param(ok({**ready_answer(), "tid": None}), id="null-tid"),
        pytest.param(ok({**ready_answer(), "tid": "T" * 101}), id="tid-too-long"),
        pytest.param(ok({**ready_answer(), "tid": {"value": TID}}), id="tid-not-text"),
        pytest.param(ok({"tid": TID, "created_at": "2024-07-15T21:18:22"}), id="no-urls"),
    ],
)
def test_malformed_start_answer_is_a_provider_error(auth_client, course, kakaopay, answer):
    order_id = order_for(auth_client, course)["id"]
    stub(kakaopay, "ready", answer)

    response = auth_client.post(
        "/api/payments/", {"order": order_id, "provider": "kakaopay"}, format="json"
    )

    assert_error_envelope(response, 502, "payment_provider_unavailable")
    assert not Payment.objects.exists()
    assert Order.objects.get(pk=order_id).status == OrderStatus.PENDING


def test_an_outage_frees_the_idempotency_key_so_the_same_key_retries(auth_client, course, kakaopay):
    """A 5xx stores nothing, not even the key's claim: the retry with the same key runs anew."""
    order_id = order_for(auth_client, course)["id"]
    stub(kakaopay, "ready", {"status": 503, "body": ""}, ok(ready_answer()))
    body = {"order": order_id, "provider": "kakaopay"}

    first = auth_client.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert_error_envelope(first, 502, "payment_provider_unavailable")
    assert not IdempotencyRecord.objects.exists()
    assert not Payment.objects.exists()

    retry = auth_client.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert retry.status_code == 201, retry.content
    assert "Idempotent-Replayed" not in retry.headers
    replay = auth_client.post("/api/payments/", body, format="json", HTTP_IDEMPOTENCY_KEY="pay-1")
    assert replay.json() == retry.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1
    assert len(calls(kakaopay, "ready")) == 2

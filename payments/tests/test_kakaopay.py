"""The KakaoPay adapter through our API, against stubs of KakaoPay's own HTTP API
(open-api.kakaopay.com) at the HTTP boundary: nothing of ours is mocked."""

import json
from datetime import datetime, timedelta

import pytest
import requests
import responses
from django.utils import timezone
from requests.exceptions import ConnectTimeout, ReadTimeout

from accounts.testing import client_for
from core.models import IdempotencyRecord
from core.testing import assert_error_envelope
from courses.models import Enrollment, EnrollmentSource
from courses.tests.factories import CourseFactory
from payments.models import Order, OrderStatus, Payment, PaymentStatus
from payments.providers.kakaopay import APPROVABLE_STATUSES
from payments.tests.flows import approve, order_for, payment_start

KAKAOPAY = "https://open-api.kakaopay.com/online/v1/payment"
SECRET_KEY_HEADER = "SECRET_KEY test-kakaopay-secret-key"
CALLBACKS = "https://app.example.com/payments"
CID = "TC0ONETIME"
TID = "T1234567890123456789"
AID = "A1234567890123456789"
PG_TOKEN = "a1b2c3d4e5f6a7b8c9d0"
PRICE = 30000
KST = timezone.get_fixed_timezone(9 * 60)
CHECKOUT_PAGE = "https://online-pay.kakao.com/mockup/v1/8e5b1bc0c0b1f2a3d4e5f6a7b8c9d0e1"
CARD_INFO = {
    "kakaopay_purchase_corp": "KB국민카드",
    "kakaopay_purchase_corp_code": "02",
    "kakaopay_issuer_corp": "KB국민카드",
    "kakaopay_issuer_corp_code": "02",
    "bin": "123456",
    "card_type": "신용",
    "install_month": "00",
    "approved_id": "28745963",
    "card_mid": "123456789",
    "interest_free_install": "N",
    "installment_type": "CARD_INSTALLMENT",
    "card_item_code": "",
}


# KakaoPay's answers, shaped as its API documents them.


def kst(moment: datetime) -> str:
    """A moment as KakaoPay writes it: Korean local time without an offset."""
    return moment.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S")


def money(total: int) -> dict:
    return {
        "total": total,
        "tax_free": 0,
        "vat": total // 11,
        "point": 0,
        "discount": 0,
        "green_deposit": 0,
    }


def ready_answer(tid: str = TID) -> dict:
    scheme = f"kakaotalk://kakaopay/pg?url={CHECKOUT_PAGE}/redirect"
    return {
        "tid": tid,
        "next_redirect_app_url": f"{CHECKOUT_PAGE}/aInfo",
        "next_redirect_mobile_url": f"{CHECKOUT_PAGE}/mInfo",
        "next_redirect_pc_url": f"{CHECKOUT_PAGE}/info",
        "android_app_scheme": scheme,
        "ios_app_scheme": scheme,
        "created_at": kst(timezone.now()),
    }


def approve_answer(
    payment: Payment,
    *,
    total: int = PRICE,
    method: str = "MONEY",
    approved_at: datetime | None = None,
) -> dict:
    approved_at = approved_at or timezone.now()
    body = {
        "aid": AID,
        "tid": payment.transaction_id,
        "cid": CID,
        "partner_order_id": str(payment.order_id),
        "partner_user_id": str(payment.user_id),
        "payment_method_type": method,
        "item_name": "Course",
        "item_code": str(payment.pk),
        "quantity": 1,
        "amount": money(total),
        "created_at": kst(approved_at - timedelta(seconds=18)),
        "approved_at": kst(approved_at),
        "payload": "",
    }
    if method == "CARD":
        body["card_info"] = CARD_INFO
    return body


def order_answer(payment: Payment, status: str, *, total: int = PRICE) -> dict:
    """/payment/order: where KakaoPay's side of the transaction stands."""
    now = timezone.now()
    charged = status in {"SUCCESS_PAYMENT", "CANCEL_PAYMENT"}
    actions = []
    if charged:
        actions.append(
            {
                "aid": AID,
                "approved_at": kst(now - timedelta(minutes=1)),
                "amount": total,
                "point_amount": 0,
                "discount_amount": 0,
                "green_deposit": 0,
                "payment_action_type": "PAYMENT",
                "payload": "",
            }
        )
    if status == "CANCEL_PAYMENT":
        actions.append({**actions[0], "aid": "A9876543210987654321", "approved_at": kst(now)})
        actions[-1]["payment_action_type"] = "CANCEL"
    body = {
        "tid": payment.transaction_id,
        "cid": CID,
        "status": status,
        "partner_order_id": str(payment.order_id),
        "partner_user_id": str(payment.user_id),
        "payment_method_type": "MONEY" if charged else None,
        "amount": money(total),
        "canceled_amount": money(total if status == "CANCEL_PAYMENT" else 0),
        "cancel_available_amount": money(total if status == "SUCCESS_PAYMENT" else 0),
        "item_name": "Course",
        "quantity": 1,
        "created_at": kst(now - timedelta(minutes=2)),
        "payment_action_details": actions,
    }
    if charged:
        body["approved_at"] = actions[0]["approved_at"]
    return body


def cancel_answer(payment: Payment) -> dict:
    now = timezone.now()
    return {
        "aid": "A9876543210987654321",
        "tid": payment.transaction_id,
        "cid": CID,
        "status": "CANCEL_PAYMENT",
        "partner_order_id": str(payment.order_id),
        "partner_user_id": str(payment.user_id),
        "payment_method_type": "MONEY",
        "item_name": "Course",
        "quantity": 1,
        "amount": money(payment.amount),
        "approved_cancel_amount": money(payment.amount),
        "canceled_amount": money(payment.amount),
        "cancel_available_amount": money(0),
        "created_at": kst(now - timedelta(minutes=2)),
        "approved_at": kst(payment.approved_at or timezone.now()),
        "canceled_at": kst(now),
    }


# How each answer is served: keyword arguments for responses' add().


def ok(body) -> dict:
    return {"status": 200, "json": body}


def refusal(code: str, message: str, status: int = 400) -> dict:
    return {
        "status": status,
        "json": {
            "error_code": code,
            "error_message": message,
            "extras": {"method_result_code": code, "method_result_message": message},
        },
    }


def not_json(status: int = 200) -> dict:
    return {
        "status": status,
        "body": "<html><body>Bad Gateway</body></html>",
        "content_type": "text/html",
    }


OUTAGES = {
    "read-timeout": lambda: {"body": ReadTimeout("Read timed out. (read timeout=10.0)")},
    "connect-timeout": lambda: {"body": ConnectTimeout("Connection to open-api timed out.")},
    "connection-error": lambda: {"body": requests.ConnectionError("Connection reset by peer")},
    "500": lambda: refusal("INTERNAL_SERVER_ERROR", "일시적인 오류입니다.", status=500),
    "502": lambda: not_json(502),
    "503": lambda: {"status": 503, "body": ""},
    "429": lambda: refusal("TOO_MANY_REQUESTS", "요청이 너무 많습니다.", status=429),
}
outages = pytest.mark.parametrize("outage", list(OUTAGES.values()), ids=list(OUTAGES))


def stub(kakaopay: responses.RequestsMock, endpoint: str, *answers: dict) -> None:
    """Queue answers for one endpoint, served in order; the last one repeats."""
    for answer in answers:
        kakaopay.add(responses.POST, f"{KAKAOPAY}/{endpoint}", **answer)


def calls(kakaopay: responses.RequestsMock, endpoint: str) -> list:
    return [call for call in kakaopay.calls if call.request.url == f"{KAKAOPAY}/{endpoint}"]


def sent(kakaopay: responses.RequestsMock, endpoint: str) -> list[dict]:
    """The JSON bodies sent to one endpoint, oldest first."""
    return [json.loads(call.request.body) for call in calls(kakaopay, endpoint)]


@pytest.fixture
def kakaopay():
    """KakaoPay's API; a call to anything not stubbed is a refused connection."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def course(db):
    return CourseFactory(price=PRICE)


# Steps of a purchase.


def started(client, kakaopay, course, tid: str = TID) -> Payment:
    """A pending KakaoPay payment of a fresh order for `course`."""
    order_id = order_for(client, course)["id"]
    stub(kakaopay, "ready", ok(ready_answer(tid)))
    return Payment.objects.get(pk=payment_start(client, order_id, "kakaopay")["payment"]["id"])


def paid(client, kakaopay, course, approved_at: datetime | None = None) -> Payment:
    payment = started(client, kakaopay, course)
    stub(kakaopay, "approve", ok(approve_answer(payment, approved_at=approved_at)))
    response = approve(client, payment.pk, PG_TOKEN)
    assert response.status_code == 200, response.content
    payment.refresh_from_db()
    return payment


def enrollments(payment: Payment):
    return Enrollment.objects.filter(user_id=payment.user_id, reference=f"order:{payment.order_id}")


def assert_still_payable(payment: Payment, status: str = PaymentStatus.PENDING) -> None:
    """Nothing was settled: the payment is `status`, its order pending, no course unlocked."""
    payment.refresh_from_db()
    assert payment.status == status
    assert payment.approved_at is None
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PENDING
    assert not enrollments(payment).exists()


def assert_still_paid(payment: Payment) -> None:
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.refunded_at is None
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    assert [enrollment.revoked_at for enrollment in enrollments(payment)] == [None]


# Start and approve.


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


# Outages: nothing changes, and a retry goes through.


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


# Lost answers and refusals.


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


# Refunds.


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


# Malformed answers are provider errors, never a 500.


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

"""KakaoPay's own HTTP API (open-api.kakaopay.com) as the KakaoPay tests stub it: its answers,
shaped as its API documents them, how each is served, and the steps of a purchase against it."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
import responses
from django.utils import timezone
from requests.exceptions import ConnectTimeout, ReadTimeout

from courses.models import Enrollment
from payments.models import Order, OrderStatus, Payment, PaymentStatus
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
    actions: list[dict[str, Any]] = []
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
    body: dict[str, Any] = {
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

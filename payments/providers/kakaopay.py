"""KakaoPay online single payment (open-api.kakaopay.com): ready -> redirect -> approve with the
pg_token -> cancel for refunds, authenticated with the merchant's secret key."""

from datetime import datetime

import requests
from django.conf import settings
from django.utils import timezone

from payments.providers.base import (
    Approval,
    Cancellation,
    Checkout,
    CheckoutRequest,
    PaymentProvider,
    ProviderDeclined,
    ProviderUnavailable,
)

CONNECT_TIMEOUT_SECONDS = 3.05
APPROVED_STATUSES = {"SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT"}


def _parse_time(value: str | None) -> datetime:
    """KakaoPay sends local (KST) times without an offset: '2024-07-15T21:18:22'."""
    if not value:
        return timezone.now()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return timezone.now()
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_fixed_timezone(9 * 60))
    return parsed


class KakaoPayProvider(PaymentProvider):
    name = "kakaopay"

    def __init__(self, session: requests.Session | None = None):
        self.session = session or requests.Session()
        self.base_url = settings.KAKAOPAY_API_URL.rstrip("/")
        self.cid = settings.KAKAOPAY_CID

    def _post(self, path: str, payload: dict) -> dict:
        try:
            response = self.session.post(
                f"{self.base_url}{path}",
                json={"cid": self.cid, **payload},
                headers={"Authorization": f"SECRET_KEY {settings.KAKAOPAY_SECRET_KEY}"},
                timeout=(CONNECT_TIMEOUT_SECONDS, settings.PAYMENT_PROVIDER_TIMEOUT),
            )
        except requests.Timeout as exc:
            raise ProviderUnavailable("provider_timeout", str(exc)) from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable("provider_unreachable", str(exc)) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500 or (response.ok and not body):
            raise ProviderUnavailable(
                "provider_error", f"KakaoPay answered {response.status_code}", body
            )
        if not response.ok:
            # Current API: error_code/error_message; the older kapi.kakao.com API: code/msg.
            code = body.get("error_code") or body.get("code") or response.status_code
            message = body.get("error_message") or body.get("msg") or response.reason
            raise ProviderDeclined(str(code), str(message), body)
        return body

    def checkout(self, request: CheckoutRequest) -> Checkout:
        body = self._post(
            "/online/v1/payment/ready",
            {
                "partner_order_id": str(request.order_id),
                "partner_user_id": str(request.user_id),
                "item_name": request.item_name[:100],
                "item_code": str(request.payment_id),
                "quantity": request.quantity,
                "total_amount": request.amount,
                "tax_free_amount": 0,
                "approval_url": request.approval_url,
                "cancel_url": request.cancel_url,
                "fail_url": request.fail_url,
            },
        )
        urls = {
            kind: body[f"next_redirect_{kind}_url"]
            for kind in ("pc", "mobile", "app")
            if body.get(f"next_redirect_{kind}_url")
        }
        if not body.get("tid") or "pc" not in urls:
            raise ProviderUnavailable("provider_error", "KakaoPay ready without tid/URL", body)
        return Checkout(transaction_id=body["tid"], redirect_url=urls["pc"], redirect_urls=urls)

    def _approval(self, body: dict, *, approval_id: str, approved_at: str | None) -> Approval:
        amount = body.get("amount") if isinstance(body.get("amount"), dict) else {}
        total = amount.get("total")
        return Approval(
            transaction_id=body.get("tid", ""),
            approval_id=approval_id,
            # Anything but a whole number can never equal the order's total: the charge is refused.
            amount=total if isinstance(total, int) else -1,
            method=body.get("payment_method_type", ""),
            approved_at=_parse_time(approved_at),
            raw=body,
        )

    def approve(
        self, *, transaction_id: str, order_id: int, user_id: int, pg_token: str
    ) -> Approval:
        body = self._post(
            "/online/v1/payment/approve",
            {
                "tid": transaction_id,
                "partner_order_id": str(order_id),
                "partner_user_id": str(user_id),
                "pg_token": pg_token,
            },
        )
        return self._approval(
            body, approval_id=body.get("aid", ""), approved_at=body.get("approved_at")
        )

    def lookup(self, *, transaction_id: str) -> Approval | None:
        body = self._post("/online/v1/payment/order", {"tid": transaction_id})
        if body.get("status") not in APPROVED_STATUSES:
            return None
        payment_action = next(
            (
                action
                for action in body.get("payment_action_details") or []
                if action.get("payment_action_type") == "PAYMENT"
            ),
            {},
        )
        return self._approval(
            body,
            approval_id=payment_action.get("aid", ""),
            approved_at=payment_action.get("approved_at") or body.get("approved_at"),
        )

    def cancel(self, *, transaction_id: str, amount: int) -> Cancellation:
        body = self._post(
            "/online/v1/payment/cancel",
            {"tid": transaction_id, "cancel_amount": amount, "cancel_tax_free_amount": 0},
        )
        cancelled = (body.get("canceled_amount") or body.get("approved_cancel_amount") or {}).get(
            "total", amount
        )
        return Cancellation(
            transaction_id=transaction_id,
            amount=int(cancelled),
            cancelled_at=_parse_time(body.get("canceled_at")),
            raw=body,
        )

"""KakaoPay online single payment (open-api.kakaopay.com): ready -> redirect -> approve with the
pg_token -> cancel for refunds, authenticated with the merchant's secret key."""

from datetime import datetime

import requests
from django.conf import settings
from django.db import models
from django.utils import timezone

from payments.models import Payment
from payments.providers.base import (
    Approval,
    Cancellation,
    Checkout,
    CheckoutRequest,
    Lookup,
    PaymentProvider,
    ProviderDeclined,
    ProviderUnavailable,
)

CONNECT_TIMEOUT_SECONDS = 3.05
APPROVED_STATUSES = {"SUCCESS_PAYMENT", "PART_CANCEL_PAYMENT"}
# Not charged and not ended: the buyer may still finish at KakaoPay and be approved (a ready
# payment is held 15 minutes). QUIT_PAYMENT, FAIL_PAYMENT, FAIL_AUTH_PASSWORD and
# CANCEL_PAYMENT end it.
APPROVABLE_STATUSES = {
    "READY",
    "SEND_TMS",
    "OPEN_PAYMENT",
    "SELECT_METHOD",
    "ARS_WAITING",
    "AUTH_PASSWORD",
}
CANCELLED_STATUS = "CANCEL_PAYMENT"
# Request timeout and rate limit: KakaoPay did not process the call, so it may be retried.
RETRYABLE_STATUSES = {408, 429}


def _max_length(name: str) -> int:
    """The max_length of a CharField of Payment (Django requires one)."""
    field = Payment._meta.get_field(name)
    # Django requires a max_length on a CharField.
    assert isinstance(field, models.CharField) and field.max_length is not None, name  # nosec B101
    return field.max_length


TRANSACTION_ID_MAX_LENGTH = _max_length("transaction_id")
REDIRECT_URL_MAX_LENGTH = _max_length("redirect_url")


def _parse_time(value: str | None) -> datetime:
    """KakaoPay sends local (KST) times without an offset: '2024-07-15T21:18:22'."""
    if not value or not isinstance(value, str):
        return timezone.now()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return timezone.now()
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_fixed_timezone(9 * 60))
    return parsed


def _total(amount) -> int | None:
    """`amount.total` if it is a whole number of won (a bool is not), else None."""
    total = amount.get("total") if isinstance(amount, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _actions(body: dict, action_type: str) -> list[dict]:
    """The entries of `payment_action_details` of one type ("PAYMENT", "CANCEL"), oldest first."""
    details = body.get("payment_action_details")
    if not isinstance(details, list):
        return []
    return [
        action
        for action in details
        if isinstance(action, dict) and action.get("payment_action_type") == action_type
    ]


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
        if (
            response.status_code >= 500
            or response.status_code in RETRYABLE_STATUSES
            or (response.ok and not body)
        ):
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
            kind: url
            for kind in ("pc", "mobile", "app")
            if (url := _text(body.get(f"next_redirect_{kind}_url")))
            and len(url) <= REDIRECT_URL_MAX_LENGTH
        }
        tid = _text(body.get("tid"))
        # What the payment row cannot hold would fail its save with a 500: treat it as no answer.
        if not tid or len(tid) > TRANSACTION_ID_MAX_LENGTH or "pc" not in urls:
            raise ProviderUnavailable("provider_error", "KakaoPay ready without tid/URL", body)
        return Checkout(transaction_id=tid, redirect_url=urls["pc"], redirect_urls=urls)

    def _approval(self, body: dict, *, approval_id, approved_at) -> Approval:
        total = _total(body.get("amount"))
        if total is None:
            # A charge was made but its amount cannot be read, so it can be neither granted nor
            # reversed (a cancel needs the amount): the outcome is unknown, as after a timeout.
            # The retry's approve is refused and the order lookup settles it.
            raise ProviderUnavailable("provider_error", "KakaoPay approval without amount", body)
        return Approval(
            transaction_id=_text(body.get("tid")),
            approval_id=_text(approval_id),
            amount=total,
            method=_text(body.get("payment_method_type")),
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

    def lookup(self, *, transaction_id: str) -> Lookup:
        body = self._post("/online/v1/payment/order", {"tid": transaction_id})
        state = _text(body.get("status"))
        if state in APPROVABLE_STATUSES:
            return Lookup(approvable=True)
        if state not in APPROVED_STATUSES:
            return Lookup()
        payment_action = next(iter(_actions(body, "PAYMENT")), {})
        return Lookup(
            approval=self._approval(
                body,
                approval_id=payment_action.get("aid", ""),
                approved_at=payment_action.get("approved_at") or body.get("approved_at"),
            )
        )

    def cancel(self, *, transaction_id: str, amount: int) -> Cancellation:
        try:
            body = self._post(
                "/online/v1/payment/cancel",
                {"tid": transaction_id, "cancel_amount": amount, "cancel_tax_free_amount": 0},
            )
        except ProviderDeclined as declined:
            return self._cancelled_before(transaction_id, amount, declined)
        cancelled = _total(body.get("approved_cancel_amount"))
        if cancelled is None:
            cancelled = _total(body.get("canceled_amount"))
        return Cancellation(
            transaction_id=transaction_id,
            amount=amount if cancelled is None else cancelled,
            cancelled_at=_parse_time(body.get("canceled_at")),
            raw=body,
        )

    def _cancelled_before(
        self, transaction_id: str, amount: int, declined: ProviderDeclined
    ) -> Cancellation:
        """A cancel whose answer was lost (timeout) is refused when retried; if the order shows
        the whole `amount` already cancelled, that earlier cancel is the outcome."""
        try:
            body = self._post("/online/v1/payment/order", {"tid": transaction_id})
        except ProviderDeclined:
            raise declined from None
        if body.get("status") != CANCELLED_STATUS or _total(body.get("canceled_amount")) != amount:
            raise declined
        cancel_actions = _actions(body, "CANCEL")
        return Cancellation(
            transaction_id=transaction_id,
            amount=amount,
            cancelled_at=_parse_time(
                cancel_actions[-1].get("approved_at") if cancel_actions else None
            ),
            raw=body,
        )

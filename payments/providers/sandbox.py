"""A local stand-in for a payment gateway with the same ready -> redirect -> approve steps.

Its checkout page (/payments/sandbox/<tid>/) offers approve, cancel and fail, and sends the browser
to our callback URLs as KakaoPay would; the pg_token is an HMAC of the transaction id, so only a
visit to that page can produce it. Never enabled in production.
"""

import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from payments.models import SandboxTransaction
from payments.providers.base import (
    Approval,
    Cancellation,
    Checkout,
    CheckoutRequest,
    Lookup,
    PaymentProvider,
    ProviderDeclined,
)

METHOD = "SANDBOX"


def sandbox_pg_token(transaction_id: str) -> str:
    return salted_hmac("payments.sandbox.pg_token", transaction_id).hexdigest()[:20]


class SandboxProvider(PaymentProvider):
    name = "sandbox"

    def checkout(self, request: CheckoutRequest) -> Checkout:
        transaction = SandboxTransaction.objects.create(
            transaction_id=f"SBX{secrets.token_hex(10).upper()}",
            amount=request.amount,
            item_name=request.item_name[:200],
            approval_url=request.approval_url,
            cancel_url=request.cancel_url,
            fail_url=request.fail_url,
        )
        url = settings.PAYMENT_SANDBOX_BASE_URL.rstrip("/") + reverse(
            "sandbox-checkout", args=[transaction.transaction_id]
        )
        return Checkout(
            transaction_id=transaction.transaction_id,
            redirect_url=url,
            redirect_urls={"pc": url, "mobile": url},
        )

    def approve(
        self, *, transaction_id: str, order_id: int, user_id: int, pg_token: str
    ) -> Approval:
        if not constant_time_compare(pg_token or "", sandbox_pg_token(transaction_id)):
            raise ProviderDeclined("invalid_pg_token", "The pg_token does not match.")
        approved = SandboxTransaction.objects.filter(
            transaction_id=transaction_id, state=SandboxTransaction.State.READY
        ).update(
            state=SandboxTransaction.State.APPROVED,
            approval_id=f"SBA{secrets.token_hex(10).upper()}",
            approved_at=timezone.now(),
        )
        if not approved:
            # A real gateway refuses a second approval of the same transaction.
            raise ProviderDeclined("not_ready", "This transaction is not waiting for approval.")
        approval = self.lookup(transaction_id=transaction_id).approval
        assert approval is not None  # approved just above  # nosec B101
        return approval

    def lookup(self, *, transaction_id: str) -> Lookup:
        transaction = SandboxTransaction.objects.filter(transaction_id=transaction_id).first()
        if transaction is None or transaction.state == SandboxTransaction.State.CANCELLED:
            return Lookup()
        if transaction.state == SandboxTransaction.State.READY:
            return Lookup(approvable=True)
        assert transaction.approved_at is not None  # set with the APPROVED state  # nosec B101
        return Lookup(
            approval=Approval(
                transaction_id=transaction.transaction_id,
                approval_id=transaction.approval_id,
                amount=transaction.amount,
                method=METHOD,
                approved_at=transaction.approved_at,
            )
        )

    def cancel(self, *, transaction_id: str, amount: int) -> Cancellation:
        cancelled = SandboxTransaction.objects.filter(
            transaction_id=transaction_id,
            state=SandboxTransaction.State.APPROVED,
            amount=amount,
        ).update(state=SandboxTransaction.State.CANCELLED)
        if not cancelled:
            raise ProviderDeclined("not_cancellable", "Nothing approved to cancel for this amount.")
        return Cancellation(
            transaction_id=transaction_id, amount=amount, cancelled_at=timezone.now()
        )

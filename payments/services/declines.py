"""What happens when the provider says no to an approval, or charges the wrong amount: the
payment fails (or, while the provider can still approve it, stays pending), and which error
answers it. Called with the order and the payment locked (payments.payment_approve), which
commits these changes and then raises the error returned.

    provider refused, transaction still approvable  -> ApprovalRefused   (402, stays pending)
    provider refused, transaction over (or the APPROVAL_ATTEMPTS-th refusal)
                                                    -> PaymentDeclined   (402, payment failed)
    provider charged another amount than the order  -> AmountMismatch    (409, failed, reversed)
"""

import logging

from django.utils import timezone

from payments.errors import AmountMismatch, ApprovalRefused, PaymentDeclined
from payments.models import Order, OrderEvent, Payment, PaymentStatus
from payments.providers import Approval, Lookup, ProviderDeclined, ProviderError, provider_get
from payments.services.orders import order_event

logger = logging.getLogger(__name__)

# Approvals the provider may refuse while the payment stays pending (a wrong or stale pg_token);
# the last one fails the payment, so a client cannot make us call the provider without end.
APPROVAL_ATTEMPTS = 5


def payment_fail(*, order: Order, payment: Payment, code: str, message: str, actor) -> None:
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.FAILED,
        failure_code=code[:60],
        failure_message=message[:500],
        updated_at=timezone.now(),
    )
    payment.refresh_from_db()
    order_event(order=order, type="payment_failed", actor=actor, payment=payment.pk, code=code)


def approval_refusal_record(
    *, order: Order, payment: Payment, declined: ProviderDeclined, state: Lookup, actor
) -> ApprovalRefused | PaymentDeclined:
    """The provider refused the approval and charged nothing. While it says the transaction may
    still be approved, the payment stays pending (a wrong pg_token, or the buyer has not finished
    at the provider yet); otherwise it fails and the order takes a new payment."""
    refused_before = OrderEvent.objects.filter(
        order=order, type="approval_refused", data__payment=payment.pk
    ).count()
    if state.approvable and refused_before + 1 < APPROVAL_ATTEMPTS:
        order_event(
            order=order,
            type="approval_refused",
            actor=actor,
            payment=payment.pk,
            code=declined.code[:60],
        )
        return ApprovalRefused(reason=declined.message)
    payment_fail(
        order=order, payment=payment, code=declined.code, message=declined.message, actor=actor
    )
    return PaymentDeclined(reason=declined.message)


def amount_mismatch_reverse(
    *, order: Order, payment: Payment, approval: Approval
) -> AmountMismatch:
    """The provider charged another amount than the order's: fail the payment, grant nothing and
    give the money back."""
    logger.error(
        "Payment %s: provider charged %s, order %s totals %s",
        payment.pk,
        approval.amount,
        order.pk,
        order.total,
    )
    payment_fail(
        order=order,
        payment=payment,
        code="amount_mismatch",
        message=f"charged {approval.amount}, expected {order.total}",
        actor=None,
    )
    assert payment.transaction_id is not None  # it was just approved  # nosec B101
    try:
        provider_get(payment.provider).cancel(
            transaction_id=payment.transaction_id, amount=approval.amount
        )
    except ProviderError as exc:
        # Staff find these by the event type and reverse the charge by hand.
        logger.exception("Payment %s: reversing the mismatched charge failed", payment.pk)
        order_event(order=order, type="mismatch_reversal_failed", payment=payment.pk, code=exc.code)
        return AmountMismatch(AmountMismatch.NOT_REVERSED)
    order_event(order=order, type="mismatch_reversed", payment=payment.pk)
    return AmountMismatch()

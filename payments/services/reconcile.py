"""Pending payments whose approval answer was lost: the provider charged the buyer (our approve
call timed out, or the process died before it committed) and the order still waits. The
provider's own record settles them, as approve would have, once.

Each is looked up under the order's and the payment's locks (payments.payment_locked), so a
buyer's approve running at the same moment either settles it first (the lookup is skipped) or
waits and finds it settled; a payment is never charged by this path, only recognised.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from payments.models import OrderStatus, Payment, PaymentStatus
from payments.providers import ProviderDeclined, ProviderUnavailable, provider_get
from payments.services.payments import payment_locked, settle_approved

logger = logging.getLogger(__name__)


def payments_reconcile(*, now=None, batch_size: int = 100) -> int:
    """Look up every payment still pending PAYMENT_RECONCILE_AFTER seconds after it started
    (and still within PAYMENT_APPROVAL_WINDOW, after which its order expires); settle those the
    provider approved. Returns how many were settled. Idempotent; a provider that does not
    answer leaves the payment for the next run."""
    now = now or timezone.now()
    due = Payment.objects.filter(
        status=PaymentStatus.PENDING,
        transaction_id__isnull=False,
        order__status=OrderStatus.PENDING,
        created_at__lte=now - timedelta(seconds=settings.PAYMENT_RECONCILE_AFTER),
        created_at__gt=now - timedelta(seconds=settings.PAYMENT_APPROVAL_WINDOW),
    ).order_by("pk")
    settled = 0
    for payment_id in list(due.values_list("pk", flat=True)[:batch_size]):
        with transaction.atomic():
            order, payment = payment_locked(payment_id=payment_id)
            if payment.status != PaymentStatus.PENDING or order.status != OrderStatus.PENDING:
                continue  # approved, abandoned or expired since the query above
            assert payment.transaction_id is not None  # filtered above  # nosec B101
            try:
                state = provider_get(payment.provider).lookup(transaction_id=payment.transaction_id)
            except (ProviderUnavailable, ProviderDeclined):
                logger.warning("payment %s: the provider's lookup failed", payment.pk)
                continue
            if state.approval is None:
                continue  # not approved (yet): the buyer may still finish, or the order expires
            mismatch = settle_approved(
                order=order, payment=payment, approval=state.approval, actor=None
            )
            if mismatch is None:  # else the other amount was given back, nothing granted
                settled += 1
    return settled

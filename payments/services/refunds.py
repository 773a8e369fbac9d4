"""Refunds: the whole payment back through its provider, the courses it unlocked revoked."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from courses.services.enrollments import enrollments_revoke
from payments.errors import (
    AlreadyRefunded,
    PaymentNotRefundable,
    PaymentProviderUnavailable,
    RefundDeclined,
    RefundWindowPassed,
)
from payments.models import OrderStatus, Payment, PaymentStatus
from payments.providers import ProviderDeclined, ProviderUnavailable, provider_get
from payments.services.orders import order_transition
from payments.services.payments import payment_locked


@transaction.atomic
def payment_refund(*, actor, payment_id: int) -> Payment:
    """Give the whole payment back through the provider and revoke what it unlocked. The owner may
    refund within REFUND_WINDOW_DAYS of approval; staff at any time (customer service)."""
    order, payment = payment_locked(payment_id=payment_id, user=None if actor.is_staff else actor)
    if payment.status == PaymentStatus.REFUNDED:
        raise AlreadyRefunded()
    if payment.status != PaymentStatus.PAID:
        raise PaymentNotRefundable()
    # A paid payment was approved by its provider (constraint payment_settled_is_approved).
    assert payment.transaction_id is not None and payment.refundable_until is not None  # nosec B101
    if not actor.is_staff and timezone.now() > payment.refundable_until:
        raise RefundWindowPassed(days=settings.REFUND_WINDOW_DAYS)
    try:
        provider_get(payment.provider).cancel(
            transaction_id=payment.transaction_id, amount=payment.amount
        )
    except ProviderUnavailable as exc:
        raise PaymentProviderUnavailable() from exc
    except ProviderDeclined as exc:
        raise RefundDeclined(reason=exc.message) from exc
    now = timezone.now()
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PAID).update(
        status=PaymentStatus.REFUNDED, refunded_at=now, updated_at=now
    )
    payment.refresh_from_db()
    order_transition(
        order=order, to=OrderStatus.REFUNDED, actor=actor, event="refunded", payment=payment.pk
    )
    enrollments_revoke(user=order.user, reference=order.reference)
    return payment

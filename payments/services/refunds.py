"""Refunds: the whole payment back through its provider, the courses it unlocked revoked."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError
from courses.services.enrollments import enrollments_revoke
from payments.models import OrderStatus, Payment, PaymentStatus
from payments.providers import ProviderDeclined, ProviderUnavailable, provider_get
from payments.services.orders import order_transition
from payments.services.payments import payment_locked, provider_unavailable_error


def refundable_until(payment: Payment):
    """The end of the owner's refund window; None unless the payment is paid (and not refunded)."""
    if payment.status != PaymentStatus.PAID or payment.approved_at is None:
        return None
    return payment.approved_at + timedelta(days=settings.REFUND_WINDOW_DAYS)


@transaction.atomic
def payment_refund(*, actor, payment_id: int) -> Payment:
    """Give the whole payment back through the provider and revoke what it unlocked. The owner may
    refund within REFUND_WINDOW_DAYS of approval; staff at any time (customer service)."""
    order, payment = payment_locked(payment_id=payment_id, user=None if actor.is_staff else actor)
    if payment.status == PaymentStatus.REFUNDED:
        raise ApplicationError(
            "already_refunded", _("This payment was already refunded."), status.HTTP_409_CONFLICT
        )
    if payment.status != PaymentStatus.PAID:
        raise ApplicationError(
            "payment_not_refundable",
            _("Only a completed payment can be refunded."),
            status.HTTP_409_CONFLICT,
        )
    if not actor.is_staff and timezone.now() > refundable_until(payment):
        raise ApplicationError(
            "refund_window_passed",
            _("Refunds are possible for %(days)d days after payment.")
            % {"days": settings.REFUND_WINDOW_DAYS},
            status.HTTP_409_CONFLICT,
        )
    try:
        provider_get(payment.provider).cancel(
            transaction_id=payment.transaction_id, amount=payment.amount
        )
    except ProviderUnavailable as exc:
        raise provider_unavailable_error(exc) from exc
    except ProviderDeclined as exc:
        raise ApplicationError(
            "refund_declined",
            _("The payment provider refused the refund: %(reason)s") % {"reason": exc.message},
            status.HTTP_409_CONFLICT,
        ) from exc
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

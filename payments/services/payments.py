"""Paying for an order: start with a provider, approve once, take the provider's callbacks.

Approval (and refund, in refunds.py) locks the order, then the payment (always in that order),
and keeps the locks while the provider is called: a concurrent approve waits and then finds the
payment settled, so the provider is asked to charge once and enrollments are granted once. The
state changes are compare-and-set updates inside the same transaction; a provider failure rolls
everything back.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError
from courses.models import Course, EnrollmentSource
from courses.services.enrollments import enrollments_grant
from payments.models import CartItem, Order, OrderStatus, Payment, PaymentStatus
from payments.providers import (
    Approval,
    CheckoutRequest,
    ProviderDeclined,
    ProviderError,
    ProviderUnavailable,
    provider_get,
)
from payments.services.orders import order_event, order_for_update, order_transition

logger = logging.getLogger(__name__)

SETTLED = (PaymentStatus.PAID, PaymentStatus.REFUNDED)


def provider_unavailable_error(exc: ProviderError) -> ApplicationError:
    return ApplicationError(
        "payment_provider_unavailable",
        _("The payment provider did not answer in time. Try again: you will not be charged twice."),
        status.HTTP_502_BAD_GATEWAY,
    )


def _payment_declined(reason: str) -> ApplicationError:
    return ApplicationError(
        "payment_declined",
        _("The payment provider refused this payment: %(reason)s") % {"reason": reason},
        status.HTTP_402_PAYMENT_REQUIRED,
    )


def callback_urls(payment: Payment) -> dict[str, str]:
    base = f"{settings.PAYMENT_CALLBACK_BASE_URL.rstrip('/')}/{payment.pk}"
    return {kind: f"{base}/{kind}/" for kind in ("approve", "cancel", "fail")}


def _item_name(lines: list) -> str:
    if len(lines) == 1:
        return lines[0].title
    return _("%(title)s and %(count)d more") % {"title": lines[0].title, "count": len(lines) - 1}


@transaction.atomic
def payment_start(*, user, order_id: int, provider: str) -> tuple[Payment, dict[str, str]]:
    """Register a payment for the whole order with `provider`; returns it and the URLs to send the
    buyer to. An earlier unfinished payment of the order is cancelled."""
    gateway = provider_get(provider)
    order = order_for_update(user=user, order_id=order_id)
    if order.status != OrderStatus.PENDING:
        raise ApplicationError(
            "order_not_payable",
            _("Only an order waiting for payment can be paid."),
            status.HTTP_409_CONFLICT,
        )
    Payment.objects.filter(order=order, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CANCELLED, updated_at=timezone.now()
    )
    payment = Payment.objects.create(order=order, user=user, provider=provider, amount=order.total)
    urls = callback_urls(payment)
    lines = list(order.lines.all())
    try:
        checkout = gateway.checkout(
            CheckoutRequest(
                payment_id=payment.pk,
                order_id=order.pk,
                user_id=user.pk,
                item_name=_item_name(lines),
                quantity=len(lines),
                amount=payment.amount,
                approval_url=urls["approve"],
                cancel_url=urls["cancel"],
                fail_url=urls["fail"],
            )
        )
    except ProviderUnavailable as exc:
        raise provider_unavailable_error(exc) from exc
    except ProviderDeclined as exc:
        raise _payment_declined(exc.message) from exc
    payment.transaction_id = checkout.transaction_id
    payment.redirect_url = checkout.redirect_url
    payment.save(update_fields=["transaction_id", "redirect_url", "updated_at"])
    order_event(
        order=order, type="payment_started", actor=user, payment=payment.pk, provider=provider
    )
    return payment, {"pc": checkout.redirect_url, **checkout.redirect_urls}


def payment_locked(*, payment_id: int, user=None) -> tuple[Order, Payment]:
    """Lock the order, then the payment; `user` scopes it to its owner (404 otherwise)."""
    owned = Payment.objects.filter(pk=payment_id)
    if user is not None:
        owned = owned.filter(user=user)
    order_id = owned.values_list("order_id", flat=True).first()
    if order_id is None:
        raise Http404
    order = Order.objects.select_for_update().get(pk=order_id)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    return order, payment


@dataclass(frozen=True)
class _Outcome:
    payment: Payment
    error: ApplicationError | None = None


def _payment_fail(*, order: Order, payment: Payment, code: str, message: str, actor) -> None:
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.FAILED,
        failure_code=code[:60],
        failure_message=message[:500],
        updated_at=timezone.now(),
    )
    payment.refresh_from_db()
    order_event(order=order, type="payment_failed", actor=actor, payment=payment.pk, code=code)


def _order_courses(lines: list) -> list[Course]:
    return list(
        Course.objects.filter(
            Q(pk__in=[line.course_id for line in lines if line.course_id])
            | Q(curriculums__in=[line.curriculum_id for line in lines if line.curriculum_id])
        ).distinct()
    )


def _settle(*, order: Order, payment: Payment, approval: Approval, actor) -> None:
    now = timezone.now()
    updated = Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.PAID,
        approval_id=approval.approval_id[:100],
        method=approval.method[:30],
        approved_at=approval.approved_at or now,
        updated_at=now,
    )
    if not updated:  # impossible while the row is locked; refuse rather than grant twice
        raise ApplicationError(
            "payment_changed", _("This payment was changed by another request."), 409
        )
    payment.refresh_from_db()
    order_transition(
        order=order, to=OrderStatus.PAID, actor=actor, event="paid", payment=payment.pk
    )
    lines = list(order.lines.all())
    courses = _order_courses(lines)
    buyer = actor if getattr(actor, "pk", None) == order.user_id else order.user
    enrollments_grant(
        user=buyer,
        courses=courses,
        source=EnrollmentSource.PURCHASE,
        expires_at=now + timedelta(days=settings.ENROLLMENT_PURCHASE_DAYS),
        reference=order.reference,
    )
    CartItem.objects.filter(
        Q(course__in=courses)
        | Q(curriculum_id__in=[line.curriculum_id for line in lines if line.curriculum_id]),
        user_id=order.user_id,
    ).delete()


def payment_approve(*, user, payment_id: int, pg_token: str) -> Payment:
    """Confirm with the provider for the amount stored on the order. Repeated or concurrent calls
    return the same settled payment; the provider is asked once."""
    with transaction.atomic():
        order, payment = payment_locked(payment_id=payment_id, user=user)
        outcome = _approve_locked(order=order, payment=payment, pg_token=pg_token, actor=user)
    if outcome.error is not None:
        raise outcome.error
    return outcome.payment


def _approve_locked(*, order: Order, payment: Payment, pg_token: str, actor) -> _Outcome:
    if payment.status in SETTLED:
        return _Outcome(payment)
    if payment.status != PaymentStatus.PENDING or order.status != OrderStatus.PENDING:
        return _Outcome(
            payment,
            ApplicationError(
                "payment_not_pending",
                _("This payment is no longer waiting for approval."),
                status.HTTP_409_CONFLICT,
            ),
        )
    gateway = provider_get(payment.provider)
    try:
        approval = gateway.approve(
            transaction_id=payment.transaction_id,
            order_id=order.pk,
            user_id=order.user_id,
            pg_token=pg_token,
        )
    except ProviderUnavailable as exc:
        raise provider_unavailable_error(exc) from exc
    except ProviderDeclined as declined:
        # The first approve may have gone through with its answer lost (timeout): ask.
        try:
            approval = gateway.lookup(transaction_id=payment.transaction_id)
        except ProviderUnavailable as exc:
            raise provider_unavailable_error(exc) from exc
        except ProviderDeclined:
            approval = None
        if approval is None:
            _payment_fail(
                order=order,
                payment=payment,
                code=declined.code,
                message=declined.message,
                actor=actor,
            )
            return _Outcome(payment, _payment_declined(declined.message))
    if approval.amount != payment.amount or payment.amount != order.total:
        return _Outcome(payment, _amount_mismatch(order=order, payment=payment, approval=approval))
    _settle(order=order, payment=payment, approval=approval, actor=actor)
    return _Outcome(payment)


def _amount_mismatch(*, order: Order, payment: Payment, approval: Approval) -> ApplicationError:
    """The provider charged another amount than the order's: fail the payment, grant nothing and
    give the money back."""
    logger.error(
        "Payment %s: provider charged %s, order %s totals %s",
        payment.pk,
        approval.amount,
        order.pk,
        order.total,
    )
    _payment_fail(
        order=order,
        payment=payment,
        code="amount_mismatch",
        message=f"charged {approval.amount}, expected {order.total}",
        actor=None,
    )
    try:
        provider_get(payment.provider).cancel(
            transaction_id=payment.transaction_id, amount=approval.amount
        )
    except ProviderError as exc:
        # Staff find these by the event type and reverse the charge by hand.
        logger.exception("Payment %s: reversing the mismatched charge failed", payment.pk)
        order_event(order=order, type="mismatch_reversal_failed", payment=payment.pk, code=exc.code)
        message = _(
            "The amount charged did not match the order. The payment failed; the charge could "
            "not be reversed automatically and will be refunded by our staff."
        )
    else:
        order_event(order=order, type="mismatch_reversed", payment=payment.pk)
        message = _(
            "The amount charged did not match the order. The payment failed and was reversed."
        )
    return ApplicationError("amount_mismatch", message, status.HTTP_409_CONFLICT)


@transaction.atomic
def payment_abandon(*, user, payment_id: int, failed: bool) -> Payment:
    """The provider sent the buyer back without paying (cancel) or after an error (fail). The
    order stays payable with a new payment. Repeating the callback changes nothing."""
    order, payment = payment_locked(payment_id=payment_id, user=user)
    target = PaymentStatus.FAILED if failed else PaymentStatus.CANCELLED
    if payment.status == target:
        return payment
    if payment.status != PaymentStatus.PENDING:
        raise ApplicationError(
            "payment_not_pending",
            _("This payment is no longer waiting for approval."),
            status.HTTP_409_CONFLICT,
        )
    changes = {"status": target, "updated_at": timezone.now()}
    if failed:
        changes["failure_code"] = "provider_failed"
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(**changes)
    payment.refresh_from_db()
    order_event(order=order, type=f"payment_{target}", actor=user, payment=payment.pk)
    return payment

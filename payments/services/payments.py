"""Paying for an order: start with a provider, approve once, take the provider's callbacks.

Approval (and refund, in refunds.py) locks the order, then the payment (always in that order),
and keeps the locks while the provider is called: a concurrent approve waits and then finds the
payment settled, so the provider is asked to charge once and enrollments are granted once. The
state changes are compare-and-set updates inside the same transaction; a provider failure rolls
everything back.

Starting a payment re-checks the order under its lock: not expired (OrderExpired), every line
still for sale (NotForSale) at its ordered price (PriceChanged). A payment started before the
order expired is honoured at approval even after that moment: the buyer authorised that amount
at the provider, which keeps its own time limit.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import ApplicationError
from courses.models import Course, EnrollmentSource
from courses.services.enrollments import enrollments_grant
from payments.errors import (
    OrderExpired,
    OrderNotPayable,
    PaymentChanged,
    PaymentDeclined,
    PaymentNotPending,
    PaymentProviderUnavailable,
)
from payments.models import CartItem, Order, OrderStatus, Payment, PaymentStatus
from payments.providers import (
    Approval,
    CheckoutRequest,
    Lookup,
    PaymentProvider,
    ProviderDeclined,
    ProviderUnavailable,
    provider_get,
)
from payments.services.declines import amount_mismatch_reverse, approval_refusal_record
from payments.services.orders import (
    order_check_still_for_sale,
    order_event,
    order_expire,
    order_expire_if_due,
    order_for_update,
    order_transition,
)
from payments.services.receipts import receipt_mail_queue

SETTLED = (PaymentStatus.PAID, PaymentStatus.REFUNDED)


def callback_urls(payment: Payment) -> dict[str, str]:
    base = f"{settings.PAYMENT_CALLBACK_BASE_URL.rstrip('/')}/{payment.pk}"
    return {kind: f"{base}/{kind}/" for kind in ("approve", "cancel", "fail")}


def _item_name(lines: list) -> str:
    if len(lines) == 1:
        return lines[0].title
    return _("%(title)s and %(count)d more") % {"title": lines[0].title, "count": len(lines) - 1}


def payment_start(*, user, order_id: int, provider: str) -> tuple[Payment, dict[str, str]]:
    """Register a payment for the whole order with `provider`; returns it and the URLs to send the
    buyer to. An earlier unfinished payment of the order is cancelled. Past its expiry the order
    is closed as expired (committed) and OrderExpired raised."""
    gateway = provider_get(provider)
    with transaction.atomic():
        order = order_for_update(user=user, order_id=order_id)
        if not order_expire_if_due(order=order, actor=user):
            return _payment_start_locked(order=order, user=user, provider=provider, gateway=gateway)
    raise OrderExpired()


def _payment_start_locked(
    *, order: Order, user, provider: str, gateway: PaymentProvider
) -> tuple[Payment, dict[str, str]]:
    if order.status != OrderStatus.PENDING:
        raise OrderNotPayable()
    lines = order_check_still_for_sale(order=order)
    Payment.objects.filter(order=order, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CANCELLED, updated_at=timezone.now()
    )
    payment = Payment.objects.create(order=order, user=user, provider=provider, amount=order.total)
    urls = callback_urls(payment)
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
        raise PaymentProviderUnavailable() from exc
    except ProviderDeclined as exc:
        raise PaymentDeclined(reason=exc.message) from exc
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


def _order_courses(lines: list) -> list[Course]:
    return list(
        Course.objects.filter(
            Q(pk__in=[line.course_id for line in lines if line.course_id])
            | Q(curriculums__in=[line.curriculum_id for line in lines if line.curriculum_id])
        ).distinct()
    )


def settle_approved(
    *, order: Order, payment: Payment, approval: Approval, actor
) -> ApplicationError | None:
    """The provider approved (approve's answer, or its lookup): under the order's and the
    payment's locks (payment_locked), settle it, or, if the provider charged another amount than
    the order's, fail the payment, give the money back and return the AmountMismatch to tell."""
    if approval.amount != payment.amount or payment.amount != order.total:
        return amount_mismatch_reverse(order=order, payment=payment, approval=approval)
    _settle(order=order, payment=payment, approval=approval, actor=actor)
    return None


def _settle(*, order: Order, payment: Payment, approval: Approval, actor) -> None:
    """The payment is paid, the order too, its courses are granted and leave the cart, and the
    buyer is mailed a receipt."""
    now = timezone.now()
    updated = Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.PAID,
        approval_id=approval.approval_id[:100],
        method=approval.method[:30],
        approved_at=approval.approved_at or now,
        updated_at=now,
    )
    if not updated:  # impossible while the row is locked; refuse rather than grant twice
        raise PaymentChanged()
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
    receipt_mail_queue(order=order, payment=payment, lines=lines, to=buyer.email)


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
        return _Outcome(payment, PaymentNotPending())
    if payment.created_at >= order.expires_at:
        # Started after the order expired (ORDER_PENDING_TTL was shortened since): not honoured.
        order_expire(order=order, actor=actor)
        payment.refresh_from_db()
        return _Outcome(payment, OrderExpired())
    # payment_start commits a payment only with the provider's transaction id.
    # A pending payment has the provider's id.
    assert payment.transaction_id is not None  # nosec B101
    gateway = provider_get(payment.provider)
    try:
        approval = gateway.approve(
            transaction_id=payment.transaction_id,
            order_id=order.pk,
            user_id=order.user_id,
            pg_token=pg_token,
        )
    except ProviderUnavailable as exc:
        raise PaymentProviderUnavailable() from exc
    except ProviderDeclined as declined:
        # The first approve may have gone through with its answer lost (timeout), or the buyer
        # may still finish at the provider: ask where the transaction stands.
        try:
            state = gateway.lookup(transaction_id=payment.transaction_id)
        except ProviderUnavailable as exc:
            raise PaymentProviderUnavailable() from exc
        except ProviderDeclined:
            state = Lookup()
        if state.approval is None:
            refusal = approval_refusal_record(
                order=order, payment=payment, declined=declined, state=state, actor=actor
            )
            return _Outcome(payment, refusal)
        approval = state.approval
    mismatch = settle_approved(order=order, payment=payment, approval=approval, actor=actor)
    return _Outcome(payment, mismatch)


@transaction.atomic
def payment_abandon(*, user, payment_id: int, failed: bool) -> Payment:
    """The provider sent the buyer back without paying (cancel) or after an error (fail). The
    order stays payable with a new payment. Repeating the callback changes nothing."""
    order, payment = payment_locked(payment_id=payment_id, user=user)
    target = PaymentStatus.FAILED if failed else PaymentStatus.CANCELLED
    if payment.status == target:
        return payment
    if payment.status != PaymentStatus.PENDING:
        raise PaymentNotPending()
    changes = {"status": target, "updated_at": timezone.now()}
    if failed:
        changes["failure_code"] = "provider_failed"
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PENDING).update(**changes)
    payment.refresh_from_db()
    order_event(order=order, type=f"payment_{target}", actor=user, payment=payment.pk)
    return payment

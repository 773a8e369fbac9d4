"""Paying, its declines and refunds called directly, without HTTP, through the sandbox provider."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from accounts.tests.factories import StaffFactory, UserFactory
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from payments.errors import (
    AlreadyRefunded,
    AmountMismatch,
    ApprovalRefused,
    OrderExpired,
    OrderNotPayable,
    PaymentDeclined,
    PaymentNotPending,
    PaymentNotRefundable,
    ProviderNotAvailable,
    RefundWindowPassed,
)
from payments.models import (
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentStatus,
    SandboxTransaction,
)
from payments.providers import Approval, Lookup, ProviderDeclined, provider_get
from payments.providers.sandbox import sandbox_pg_token
from payments.services.declines import (
    APPROVAL_ATTEMPTS,
    amount_mismatch_reverse,
    approval_refusal_record,
)
from payments.services.orders import order_cancel, order_create
from payments.services.payments import payment_abandon, payment_approve, payment_start
from payments.services.products import ProductRef
from payments.services.refunds import payment_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return UserFactory()


def started(buyer, price: int = 20000) -> Payment:
    """A pending sandbox payment of a fresh order for one course."""
    course = CourseFactory.create(price=price)
    order = order_create(user=buyer, items=[ProductRef(course_id=course.pk)])
    payment, _urls = payment_start(user=buyer, order_id=order.pk, provider="sandbox")
    return payment


def paid(buyer) -> Payment:
    payment = started(buyer)
    assert payment.transaction_id is not None
    return payment_approve(
        user=buyer, payment_id=payment.pk, pg_token=sandbox_pg_token(payment.transaction_id)
    )


# --- providers and starting -----------------------------------------------------------------------


def test_a_provider_settings_do_not_enable_is_provider_not_available(settings):
    settings.PAYMENT_PROVIDERS = ["kakaopay"]

    with pytest.raises(ProviderNotAvailable) as raised:
        provider_get("sandbox")

    assert (raised.value.status_code, raised.value.code) == (400, "provider_not_available")
    assert raised.value.fields == {"provider": ["Choose one of: kakaopay."]}


def test_starting_registers_the_order_total_and_cancels_an_unfinished_payment(buyer):
    first = started(buyer, price=25000)

    again, urls = payment_start(user=buyer, order_id=first.order_id, provider="sandbox")

    assert (again.status, again.amount, again.provider) == (PaymentStatus.PENDING, 25000, "sandbox")
    assert urls["pc"] == again.redirect_url
    assert SandboxTransaction.objects.get(transaction_id=again.transaction_id).amount == 25000
    assert Payment.objects.get(pk=first.pk).status == PaymentStatus.CANCELLED


def test_starting_a_closed_order_is_order_not_payable(buyer):
    order = order_create(user=buyer, items=[ProductRef(course_id=CourseFactory().pk)])
    order_cancel(user=buyer, order_id=order.pk)

    with pytest.raises(OrderNotPayable) as raised:
        payment_start(user=buyer, order_id=order.pk, provider="sandbox")

    assert (raised.value.status_code, raised.value.code) == (409, "order_not_payable")
    assert not Payment.objects.exists()


def test_starting_an_expired_order_closes_it_and_is_order_expired(buyer, settings):
    order = order_create(user=buyer, items=[ProductRef(course_id=CourseFactory().pk)])
    age = timedelta(seconds=settings.ORDER_PENDING_TTL)
    Order.objects.filter(pk=order.pk).update(created_at=F("created_at") - age)

    with pytest.raises(OrderExpired):
        payment_start(user=buyer, order_id=order.pk, provider="sandbox")

    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED
    assert not Payment.objects.exists()


# --- approving and abandoning ---------------------------------------------------------------------


def test_approval_settles_once_and_grants_the_courses(buyer):
    payment = started(buyer)
    token = sandbox_pg_token(payment.transaction_id)

    settled = payment_approve(user=buyer, payment_id=payment.pk, pg_token=token)
    again = payment_approve(user=buyer, payment_id=payment.pk, pg_token=token)

    assert settled.status == again.status == PaymentStatus.PAID
    order = Order.objects.get(pk=payment.order_id)
    assert order.status == OrderStatus.PAID
    assert Enrollment.objects.filter(user=buyer, reference=order.reference).count() == 1
    assert OrderEvent.objects.filter(order=order, type="paid").count() == 1


def test_someone_elses_payment_is_not_found(buyer):
    payment = started(buyer)

    with pytest.raises(Http404):
        payment_approve(user=UserFactory(), payment_id=payment.pk, pg_token="x")

    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING


def test_refused_approvals_keep_the_payment_pending_until_the_last_declines_it(buyer):
    payment = started(buyer)
    for _attempt in range(APPROVAL_ATTEMPTS - 1):
        with pytest.raises(ApprovalRefused) as refused:
            payment_approve(user=buyer, payment_id=payment.pk, pg_token="wrong")
        assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING

    with pytest.raises(PaymentDeclined) as declined:
        payment_approve(user=buyer, payment_id=payment.pk, pg_token="wrong")

    assert (refused.value.status_code, refused.value.code) == (402, "approval_refused")
    assert "The pg_token does not match." in str(refused.value.message)
    assert (declined.value.status_code, declined.value.code) == (402, "payment_declined")
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "invalid_pg_token")
    with pytest.raises(PaymentNotPending):
        payment_approve(user=buyer, payment_id=payment.pk, pg_token="wrong")


@pytest.mark.parametrize("failed", [False, True], ids=["cancel", "fail"])
def test_abandoning_is_repeatable_but_not_after_payment(buyer, failed):
    payment = started(buyer)
    target = PaymentStatus.FAILED if failed else PaymentStatus.CANCELLED

    payment_abandon(user=buyer, payment_id=payment.pk, failed=failed)
    again = payment_abandon(user=buyer, payment_id=payment.pk, failed=failed)

    assert again.status == target
    assert OrderEvent.objects.filter(type=f"payment_{target}").count() == 1
    settled = paid(buyer)
    with pytest.raises(PaymentNotPending) as raised:
        payment_abandon(user=buyer, payment_id=settled.pk, failed=failed)
    assert (raised.value.status_code, raised.value.code) == (409, "payment_not_pending")
    assert Payment.objects.get(pk=settled.pk).status == PaymentStatus.PAID


# --- declines: the mapper picks the class ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lookup", "refused_before", "expected", "status"),
    [
        (Lookup(approvable=True), 0, ApprovalRefused, PaymentStatus.PENDING),
        (Lookup(approvable=True), APPROVAL_ATTEMPTS - 1, PaymentDeclined, PaymentStatus.FAILED),
        (Lookup(), 0, PaymentDeclined, PaymentStatus.FAILED),
    ],
    ids=["still-approvable", "last-attempt", "transaction-over"],
)
def test_a_refusal_maps_to_approval_refused_while_approvable_else_payment_declined(
    buyer, lookup, refused_before, expected, status
):
    payment = started(buyer)
    order = Order.objects.get(pk=payment.order_id)
    for _n in range(refused_before):
        OrderEvent.objects.create(
            order=order, type="approval_refused", data={"payment": payment.pk}
        )
    declined = ProviderDeclined("CARD_REFUSED", "Insufficient funds.")

    error = approval_refusal_record(
        order=order, payment=payment, declined=declined, state=lookup, actor=buyer
    )

    assert type(error) is expected
    assert error.status_code == 402
    assert str(error.message) == str(expected.message) % {"reason": "Insufficient funds."}
    payment.refresh_from_db()
    assert payment.status == status
    if status == PaymentStatus.FAILED:
        assert (payment.failure_code, payment.failure_message) == (
            "CARD_REFUSED",
            "Insufficient funds.",
        )


@pytest.mark.parametrize("reversible", [True, False], ids=["reversed", "not-reversed"])
def test_a_wrong_amount_fails_the_payment_and_is_amount_mismatch(buyer, reversible):
    payment = started(buyer)
    order = Order.objects.get(pk=payment.order_id)
    # The sandbox can give back only what it approved: an approval of another amount.
    charged = payment.amount + (1 if reversible else 2)
    SandboxTransaction.objects.filter(transaction_id=payment.transaction_id).update(
        state=SandboxTransaction.State.APPROVED, amount=payment.amount + 1
    )
    approval = Approval(
        transaction_id=payment.transaction_id,
        approval_id="A1",
        amount=charged,
        method="SANDBOX",
        approved_at=timezone.now(),
    )

    error = amount_mismatch_reverse(order=order, payment=payment, approval=approval)

    assert (type(error), error.status_code, error.code) == (AmountMismatch, 409, "amount_mismatch")
    assert str(error.message) == str(
        AmountMismatch.message if reversible else AmountMismatch.NOT_REVERSED
    )
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "amount_mismatch")
    event = "mismatch_reversed" if reversible else "mismatch_reversal_failed"
    assert OrderEvent.objects.filter(order=order, type=event).count() == 1
    assert not Enrollment.objects.filter(user=buyer).exists()


# --- refunds --------------------------------------------------------------------------------------


def test_refunding_twice_is_already_refunded_and_unsettled_not_refundable(buyer):
    payment = paid(buyer)
    payment_refund(actor=buyer, payment_id=payment.pk)

    with pytest.raises(AlreadyRefunded) as twice:
        payment_refund(actor=buyer, payment_id=payment.pk)
    with pytest.raises(PaymentNotRefundable) as pending:
        payment_refund(actor=buyer, payment_id=started(buyer).pk)

    assert (twice.value.status_code, twice.value.code) == (409, "already_refunded")
    assert (pending.value.status_code, pending.value.code) == (409, "payment_not_refundable")
    assert SandboxTransaction.objects.filter(state=SandboxTransaction.State.CANCELLED).count() == 1


def test_after_the_window_the_owner_is_refused_and_staff_may_refund(buyer, settings):
    settings.REFUND_WINDOW_DAYS = 7
    payment = paid(buyer)
    Payment.objects.filter(pk=payment.pk).update(approved_at=F("approved_at") - timedelta(days=8))

    with pytest.raises(RefundWindowPassed) as raised:
        payment_refund(actor=buyer, payment_id=payment.pk)
    with pytest.raises(Http404):
        payment_refund(actor=UserFactory(), payment_id=payment.pk)
    refunded = payment_refund(actor=StaffFactory(), payment_id=payment.pk)

    assert (raised.value.status_code, str(raised.value.message)) == (
        409,
        "Refunds are possible for 7 days after payment.",
    )
    assert refunded.status == PaymentStatus.REFUNDED
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.REFUNDED
    assert Enrollment.objects.get(user=buyer).revoked_at is not None


def test_only_a_paid_payment_is_refundable_until_the_window_ends(buyer, settings):
    settings.REFUND_WINDOW_DAYS = 3
    payment = paid(buyer)

    assert payment.refundable_until == payment.approved_at + timedelta(days=3)
    assert started(buyer).refundable_until is None
    assert payment_refund(actor=buyer, payment_id=payment.pk).refundable_until is None

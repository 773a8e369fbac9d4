"""Payments whose approve answer was lost (payments.services.reconcile): the provider charged,
our side never heard. The attacker's and the unlucky buyer's cases: settled once from the
provider's record, never charged or granted twice, never settled when the provider did not
approve, the wrong amount reversed, a silent provider left for the next run."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import F

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.models import OutgoingMail
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from payments.models import Order, OrderStatus, Payment, PaymentStatus
from payments.models import SandboxTransaction as Ledger
from payments.providers import ProviderUnavailable
from payments.providers.sandbox import SandboxProvider, sandbox_pg_token
from payments.services.reconcile import payments_reconcile
from payments.tests.flows import approve, concurrently, order_for, payment_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def lost_answer(settings):
    """A buyer's payment the sandbox provider approved (it charged) while our side never
    recorded it, started long enough ago to be reconciled."""
    client = client_for(UserFactory())
    course = CourseFactory(price=10000)
    order = order_for(client, course)
    started = payment_start(client, order["id"])
    payment = Payment.objects.get(pk=started["payment"]["id"])
    SandboxProvider().approve(
        transaction_id=payment.transaction_id, order_id=order["id"], user_id=payment.user_id,
        pg_token=sandbox_pg_token(payment.transaction_id),
    )  # fmt: skip
    _age(payment, settings.PAYMENT_RECONCILE_AFTER + 1)
    return client, payment, course


def _age(payment: Payment, seconds: int) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        created_at=F("created_at") - timedelta(seconds=seconds)
    )


def test_a_charge_whose_answer_was_lost_is_settled_once(lost_answer):
    client, payment, course = lost_answer
    assert payments_reconcile() == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Order.objects.get(pk=payment.order_id).status == OrderStatus.PAID
    assert Enrollment.objects.filter(user_id=payment.user_id, course=course).count() == 1
    assert payments_reconcile() == 0  # again: nothing to do
    # The buyer's own approve arriving late finds it paid; nothing is charged or granted again.
    late = approve(client, payment.pk, sandbox_pg_token(payment.transaction_id))
    assert late.status_code == 200 and late.json()["status"] == "paid"
    assert Enrollment.objects.filter(user_id=payment.user_id, course=course).count() == 1


def test_a_payment_the_provider_did_not_approve_stays_pending(settings):
    client = client_for(UserFactory())
    order = order_for(client, CourseFactory(price=10000))
    payment = Payment.objects.get(pk=payment_start(client, order["id"])["payment"]["id"])
    _age(payment, settings.PAYMENT_RECONCILE_AFTER + 1)
    assert payments_reconcile() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert not Enrollment.objects.filter(user_id=payment.user_id).exists()


def test_a_payment_just_started_or_past_its_window_is_not_looked_up(lost_answer, settings):
    _client, payment, _course = lost_answer
    Payment.objects.filter(pk=payment.pk).update(created_at=F("created_at") + timedelta(seconds=2))
    assert payments_reconcile() == 0, "too recent: the buyer's approve may be on its way"
    _age(payment, settings.PAYMENT_APPROVAL_WINDOW)
    assert payments_reconcile() == 0, "past the window: its order expires instead"


def test_a_charge_of_another_amount_is_reversed_not_settled(lost_answer):
    _client, payment, course = lost_answer
    Ledger.objects.filter(transaction_id=payment.transaction_id).update(amount=1)
    assert payments_reconcile() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert Ledger.objects.get(transaction_id=payment.transaction_id).state == Ledger.State.CANCELLED
    assert not Enrollment.objects.filter(user_id=payment.user_id, course=course).exists()


def test_a_provider_that_does_not_answer_leaves_it_for_the_next_run(lost_answer, monkeypatch):
    _client, payment, _course = lost_answer

    def unavailable(self, *, transaction_id):
        raise ProviderUnavailable("timeout", "The provider did not answer.")

    monkeypatch.setattr(SandboxProvider, "lookup", unavailable)
    assert payments_reconcile() == 0
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PENDING
    monkeypatch.undo()
    assert payments_reconcile() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_buyers_approve_racing_the_reconciler_settles_once(settings):
    """The lost answer's retry (the buyer's approve) and the reconciler at the same moment: one
    settlement, one enrollment, one receipt, whichever takes the locks first."""
    client = client_for(UserFactory())
    course = CourseFactory(price=10000)
    order = order_for(client, course)
    payment = Payment.objects.get(pk=payment_start(client, order["id"])["payment"]["id"])
    token = sandbox_pg_token(payment.transaction_id)
    SandboxProvider().approve(
        transaction_id=payment.transaction_id, order_id=order["id"], user_id=payment.user_id,
        pg_token=token,
    )  # fmt: skip
    _age(payment, settings.PAYMENT_RECONCILE_AFTER + 1)

    def reconcile():
        with transaction.atomic():  # its on_commit (the receipt) runs as a worker's would
            return payments_reconcile()

    answers = concurrently([lambda: approve(client, payment.pk, token), reconcile])
    assert answers[0].status_code == 200 and answers[0].json()["status"] == "paid"
    assert answers[1] in (0, 1)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Enrollment.objects.filter(user_id=payment.user_id, course=course).count() == 1
    assert OutgoingMail.objects.count() == 1

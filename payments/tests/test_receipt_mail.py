"""The receipt mail: one per settled payment, in the buyer's language, sent after the commit;
none for a payment that was declined or rolled back, none again for a repeated approve."""

import pytest
from django.core import mail

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.models import OutgoingMail
from courses.tests.factories import CourseFactory
from payments.models import Payment
from payments.services.reconcile import payments_reconcile
from payments.tests.flows import approve, buy_with_sandbox, started_payment
from payments.tests.test_reconcile import lost_answer  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def test_a_buyer_gets_one_receipt_with_what_they_bought():
    buyer = UserFactory()
    client = client_for(buyer)
    course = CourseFactory(title="Django in depth", price=12000)
    paid = buy_with_sandbox(client, course)
    payment = Payment.objects.get(pk=paid["id"])
    assert [m.to for m in mail.outbox] == [[buyer.email]]
    receipt = mail.outbox[0]
    assert payment.receipt_number and payment.receipt_number in receipt.subject
    assert "Django in depth: 12,000 KRW" in receipt.body and "Total: 12,000 KRW" in receipt.body
    assert OutgoingMail.objects.get().sent_at is not None


def test_a_repeated_approve_sends_no_second_receipt():
    client = client_for(UserFactory())
    _order, started, token = started_payment(client, CourseFactory(price=5000))
    payment_id = started["payment"]["id"]
    assert approve(client, payment_id, token).status_code == 200
    assert approve(client, payment_id, token).status_code == 200
    assert len(mail.outbox) == 1 and OutgoingMail.objects.count() == 1


def test_a_declined_payment_sends_no_receipt():
    client = client_for(UserFactory())
    _order, started, _token = started_payment(client, CourseFactory(price=5000))
    assert approve(client, started["payment"]["id"], "forged-token").status_code != 200
    assert mail.outbox == [] and not OutgoingMail.objects.exists()


def test_the_receipt_is_in_the_buyers_language():
    client = client_for(UserFactory())
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko"
    buy_with_sandbox(client, CourseFactory(price=7000))
    assert "영수증" in mail.outbox[0].subject and "합계: 7,000원" in mail.outbox[0].body


def test_a_payment_settled_by_reconciliation_gets_its_receipt_once(
    lost_answer,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    _client, payment, _course = lost_answer
    with django_capture_on_commit_callbacks(execute=True):
        payments_reconcile()
        payments_reconcile()
    assert [m.to for m in mail.outbox] == [[payment.user.email]]

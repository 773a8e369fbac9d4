"""The demo data a fresh checkout starts with includes a real sandbox purchase."""

from django.core.management import call_command

from accounts.models import CustomUser
from conftest import client_for
from courses.demo import DJANGO_TITLE
from courses.models import Enrollment
from payments.models import Order, OrderStatus, SandboxTransaction


def test_demo_purchase_is_idempotent_and_shows_a_receipt(db):
    call_command("seed_demo")
    call_command("seed_demo")
    student = CustomUser.objects.get(email="student2@example.com")
    assert Order.objects.filter(user=student).count() == 1
    order = Order.objects.get(user=student)
    assert order.status == OrderStatus.PAID
    assert SandboxTransaction.objects.filter(state="approved").count() == 1
    enrollment = Enrollment.objects.get(user=student, course__title=DJANGO_TITLE)
    assert enrollment.reference == order.reference and enrollment.is_active()
    receipts = client_for(student).get("/api/receipts/").json()
    assert [receipt["order"] for receipt in receipts["results"]] == [order.pk]


def test_demo_purchase_is_skipped_without_the_sandbox(db, settings):
    settings.PAYMENT_PROVIDERS = ["kakaopay"]
    call_command("seed_demo")
    assert not Order.objects.exists()

"""The demo data a fresh checkout starts with includes a real sandbox purchase."""

from django.conf import settings
from django.core.management import call_command

from accounts.models import CustomUser
from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from courses.demo import CURRICULUM_TITLE, DJANGO_TITLE
from courses.models import Course, Curriculum, Enrollment
from payments.models import Order, OrderStatus, SandboxTransaction
from payments.tests.flows import approve, order_for, payment_start, pg_token_of, sandbox_authorise


def buy_order(client, order_id: int) -> dict:
    started = payment_start(client, order_id)
    token = pg_token_of(sandbox_authorise(client, started["redirect_url"]))
    response = approve(client, started["payment"]["id"], token)
    assert response.status_code == 200, response.content
    return response.json()


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


def test_each_demo_product_can_be_carted_ordered_and_paid_with_the_default_settings(db):
    """The audit's case: the demo bundle cost more than the default ORDER_MAX_TOTAL, so the cart
    took it and the order refused it."""
    call_command("seed_demo")
    assert settings.ORDER_MAX_TOTAL == 50_000
    products = [{"curriculum": Curriculum.objects.get(title=CURRICULUM_TITLE).pk}] + [
        {"course": course.pk} for course in Course.objects.filter(is_published=True)
    ]
    for product in products:
        buyer = client_for(UserFactory())
        assert buyer.post("/api/cart/items/", product, format="json").status_code == 201
        order = order_for(buyer, from_cart=True)
        paid = buy_order(buyer, order["id"])
        assert (paid["status"], paid["amount"]) == ("paid", order["total"])

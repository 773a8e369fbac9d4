"""Demo commerce (after the demo courses): student2 has bought "Django REST in practice" through
the sandbox provider, so receipts, orders and a refundable payment are there to look at."""

from accounts.models import CustomUser
from courses.demo import DJANGO_TITLE
from courses.models import Course
from payments.models import Order, OrderStatus
from payments.providers import enabled_providers
from payments.providers.sandbox import sandbox_pg_token
from payments.services.orders import order_create
from payments.services.payments import payment_approve, payment_start
from payments.services.products import ProductRef


def load(*, stdout, style) -> None:
    if "sandbox" not in enabled_providers():
        stdout.write("Demo purchase skipped: the sandbox payment provider is not enabled.")
        return
    student = CustomUser.objects.get(email="student2@example.com")
    if Order.objects.filter(user=student, status=OrderStatus.PAID).exists():
        return
    course = Course.objects.get(title=DJANGO_TITLE)
    order = order_create(user=student, items=[ProductRef(course_id=course.pk)])
    payment, _urls = payment_start(user=student, order_id=order.pk, provider="sandbox")
    assert payment.transaction_id is not None  # payment_start stores the provider's  # nosec B101
    payment_approve(
        user=student,
        payment_id=payment.pk,
        pg_token=sandbox_pg_token(payment.transaction_id),
    )
    stdout.write(style.SUCCESS(f"Demo purchase: student2 bought {DJANGO_TITLE} (sandbox)"))

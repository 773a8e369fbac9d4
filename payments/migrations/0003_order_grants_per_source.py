"""Give every paid order its own grant of each course it sold (courses 0003 lets a user hold
several grants of a course).

Before, one enrollment per user and course was shared by every source: a later purchase (or a
staff grant) took over the row of an earlier one, and refunding the later order revoked a course
the earlier paid order still entitled the buyer to; a purchase of a course already held longer
wrote no row at all. Each paid order whose grant is missing gets it back here, as the purchase
wrote it: from the payment's moment for ENROLLMENT_PURCHASE_DAYS. Rows that exist are left as
they are. Going back is a no-op here (courses 0003 cannot go back while a user holds a course
twice).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.db.models import Q


def restore_order_grants(apps, schema_editor):
    Order = apps.get_model("payments", "Order")
    Course = apps.get_model("courses", "Course")
    Enrollment = apps.get_model("courses", "Enrollment")
    days = timedelta(days=settings.ENROLLMENT_PURCHASE_DAYS)
    paid = Order.objects.filter(status="paid").prefetch_related("lines").order_by("pk")
    for order in paid.iterator(chunk_size=500):
        reference = f"order:{order.pk}"
        lines = list(order.lines.all())
        sold = set(
            Course.objects.filter(
                Q(pk__in=[line.course_id for line in lines if line.course_id])
                | Q(curriculums__in=[line.curriculum_id for line in lines if line.curriculum_id])
            ).values_list("pk", flat=True)
        )
        granted = set(
            Enrollment.objects.filter(user_id=order.user_id, reference=reference).values_list(
                "course_id", flat=True
            )
        )
        Enrollment.objects.bulk_create(
            Enrollment(
                user_id=order.user_id,
                course_id=course_id,
                source="purchase",
                starts_at=order.paid_at,
                expires_at=order.paid_at + days,
                reference=reference,
            )
            for course_id in sorted(sold - granted)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_order_expired_status"),
        ("courses", "0003_enrollment_grant_per_source"),
    ]

    operations = [
        migrations.RunPython(restore_order_grants, migrations.RunPython.noop, elidable=True),
    ]

"""Orders may close as `expired` (ORDER_PENDING_TTL after they were placed, unpaid)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="order",
            name="order_status_valid",
        ),
        migrations.AlterField(
            model_name="order",
            name="closed_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Refunded, cancelled, failed or expired at.",
                null=True,
                verbose_name="closed at",
            ),
        ),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending payment"),
                    ("paid", "Paid"),
                    ("refunded", "Refunded"),
                    ("cancelled", "Cancelled"),
                    ("failed", "Failed"),
                    ("expired", "Expired"),
                ],
                default="pending",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        ["pending", "paid", "refunded", "cancelled", "failed", "expired"],
                    )
                ),
                name="order_status_valid",
            ),
        ),
    ]

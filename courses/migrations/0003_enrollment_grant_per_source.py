"""An enrollment becomes one grant from one source: a user may hold several grants of a course
(two orders, an order and a staff grant), and a source grants a course once.

Existing rows stay as they are, each the grant of its reference; the paid orders whose grants an
earlier purchase overwrote get theirs back in payments 0003_order_grants_per_source.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0002_submission_protected_file"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="enrollment",
            index=models.Index(fields=["user", "course"], name="enrollment_user_course_idx"),
        ),
        migrations.RemoveConstraint(
            model_name="enrollment",
            name="enrollment_user_course",
        ),
        migrations.AddConstraint(
            model_name="enrollment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reference", ""), _negated=True),
                fields=("user", "course", "reference"),
                name="enrollment_one_grant_per_source",
            ),
        ),
    ]

"""Emails and usernames in one canonical form (accounts.identity), unique on that form.

Accounts that collide in canonical form (`sx` and `ſx`, `Bob@x.io` and `bob@x.io`) stop the
migration with a list of them: which account keeps the name is for a person to decide. Run
`manage.py identity_collisions` before upgrading, resolve each line, then migrate. An email with
no canonical form (a non-ASCII mailbox accepted before) is kept, lowercased, and reported."""

from django.db import migrations, models
from django.db.models.functions import Lower

import accounts.models
from accounts.identity import (
    email_canonical_or_none,
    identity_collisions,
    username_canonical,
    username_display,
)


def canonicalise_identities(apps, schema_editor):
    User = apps.get_model("accounts", "CustomUser")
    rows = list(User.objects.order_by("pk").values_list("pk", "email", "username"))
    collisions = identity_collisions(rows)
    if collisions:
        raise RuntimeError(
            "Accounts collide in canonical form; resolve them (see manage.py "
            "identity_collisions), then migrate again:\n  " + "\n  ".join(collisions)
        )
    for pk, email, username in rows:
        canonical_email = email_canonical_or_none(email)
        if canonical_email is None:
            canonical_email = email.lower()
            print(f"\n  account #{pk}: email {email!r} has no canonical form; kept lowercased")
        User.objects.filter(pk=pk).update(
            email=canonical_email,
            username=username_display(username),
            username_canonical=username_canonical(username),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_revoke_reason_social_linked"),
    ]

    operations = [
        migrations.AddField(
            model_name="customuser",
            name="username_canonical",
            field=models.CharField(editable=False, max_length=90, null=True),
        ),
        migrations.RunPython(canonicalise_identities, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="customuser",
            name="username_canonical",
            field=models.CharField(editable=False, max_length=90, unique=True),
        ),
        migrations.RemoveConstraint(model_name="customuser", name="user_email_ci_unique"),
        migrations.RemoveConstraint(model_name="customuser", name="user_username_ci_unique"),
        migrations.AlterField(
            model_name="customuser",
            name="username",
            field=models.CharField(
                max_length=30,
                validators=[
                    accounts.models.username_validator,
                    accounts.models.username_script_validator,
                ],
                verbose_name="username",
            ),
        ),
        migrations.AddConstraint(
            model_name="customuser",
            constraint=models.CheckConstraint(
                condition=models.Q(("email", Lower("email"))),
                name="user_email_canonical_lowercase",
            ),
        ),
        migrations.AddConstraint(
            model_name="customuser",
            constraint=models.CheckConstraint(
                condition=models.Q(("username_canonical", ""), _negated=True),
                name="user_username_canonical_set",
            ),
        ),
    ]

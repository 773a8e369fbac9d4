"""Assignment files leave the public media root for the protected storage (like videos).

Files already uploaded are moved under the same name; a file missing from the public storage is
left as it is (its row keeps the name, the download answers 404)."""

from django.core.files.storage import storages
from django.db import migrations, models

import core.storage


def move_submission_files_to_protected_storage(apps, schema_editor):
    Submission = apps.get_model("courses", "Submission")
    public, protected = storages["default"], storages["protected"]
    for name in Submission.objects.exclude(file="").values_list("file", flat=True).iterator():
        if not public.exists(name) or protected.exists(name):
            continue
        with public.open(name, "rb") as source:
            protected.save(name, source)
        public.delete(name)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="submission",
            name="file",
            field=models.FileField(
                blank=True,
                storage=core.storage.protected_storage,
                upload_to="submissions/%Y/%m/",
                verbose_name="file",
            ),
        ),
        migrations.RunPython(
            move_submission_files_to_protected_storage, migrations.RunPython.noop, elidable=True
        ),
    ]

"""Videos whose duration the upload now refuses (NaN, infinite, not positive, over a day) go.

A NaN or infinite duration was saved by an upload that then answered 500 (its row could not be
rendered), so the tutor was told it failed; from then on it broke the video list and its topic.
Finite absurd ones came from hostile headers and can never be completed. Their rows (with their
events and progress, which cascade) and files are deleted; each is printed. Its own migration:
PostgreSQL refuses to alter a table in the transaction that deleted rows it references.
"""

import math

from django.core.files.storage import storages
from django.db import migrations, transaction

MAX_DURATION_SECONDS = 24 * 60 * 60  # videos.models.MAX_DURATION_SECONDS when written


def remove_videos_of_impossible_duration(apps, schema_editor):
    Video = apps.get_model("videos", "Video")
    impossible = [
        (pk, name)
        for pk, name, duration in Video.objects.values_list("pk", "file", "duration").iterator()
        if not (math.isfinite(duration) and 0 < duration <= MAX_DURATION_SECONDS)
    ]
    if not impossible:
        return
    Video.objects.filter(pk__in=[pk for pk, _name in impossible]).delete()
    storage = storages["protected"]
    for pk, name in impossible:
        print(f"\n  removed video {pk} ({name}): its duration is impossible", end="")
        transaction.on_commit(
            lambda name=name: storage.delete(name), using=schema_editor.connection.alias
        )


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0003_user_avatar"),
    ]

    operations = [
        migrations.RunPython(
            remove_videos_of_impossible_duration, migrations.RunPython.noop, elidable=True
        ),
    ]

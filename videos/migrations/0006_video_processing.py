"""Videos are processed by a worker into HLS renditions: a status, the stream's key (unique: a
value per existing row first, then the constraint) and the worker's bookkeeping. Videos uploaded
before stay `processing`, so the requeue has them processed."""

import uuid

import videos.models
from django.conf import settings
from django.db import migrations, models


def _stream_keys_give(apps, schema_editor):
    Video = apps.get_model("videos", "Video")
    for video in Video.objects.filter(stream_key__isnull=True).only("pk").iterator():
        Video.objects.filter(pk=video.pk).update(stream_key=uuid.uuid4().hex)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_enrollment_grant_per_source"),
        ("videos", "0005_watch_budget_finite_durations"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="video",
            name="failure_reason",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="why processing failed"
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="video",
            name="poster",
            field=models.FileField(blank=True, upload_to="videos/", verbose_name="poster"),
        ),
        migrations.AddField(
            model_name="video",
            name="processed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="processed at"),
        ),
        migrations.AddField(
            model_name="video",
            name="processed_by",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="video",
            name="queued_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="queued for processing at"
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="renditions",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="name, width, height, bandwidth",
                verbose_name="renditions",
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="status",
            field=models.CharField(
                choices=[("processing", "Processing"), ("ready", "Ready"), ("failed", "Failed")],
                default="processing",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="stream_key",
            field=models.CharField(editable=False, max_length=32, null=True),
        ),
        migrations.RunPython(_stream_keys_give, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="video",
            name="stream_key",
            field=models.CharField(
                default=videos.models._stream_key, editable=False, max_length=32, unique=True
            ),
        ),
        migrations.AddField(
            model_name="video",
            name="thumbnails",
            field=models.FileField(
                blank=True, upload_to="videos/", verbose_name="seek thumbnails (WebVTT)"
            ),
        ),
        migrations.AddIndex(
            model_name="video",
            index=models.Index(fields=["status", "heartbeat_at"], name="video_status_heartbeat"),
        ),
        migrations.AddConstraint(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["processing", "ready", "failed"])),
                name="video_status_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "failed"), _negated=True),
                    models.Q(("failure_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="video_failed_has_reason",
            ),
        ),
    ]

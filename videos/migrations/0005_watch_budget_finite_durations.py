"""Durations, positions and spans are finite and at most a day (NaN is refused: PostgreSQL ranks
it above every number); the watch-time budget of each progress, never below what it counts."""

from django.db import migrations, models


def budget_from_what_was_counted(apps, schema_editor):
    # What was counted before stays counted; the budget grows from the next event on.
    VideoProgress = apps.get_model("videos", "VideoProgress")
    VideoProgress.objects.update(
        watch_budget_seconds=models.F("watched_seconds"), started_at=models.F("last_event_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0004_remove_videos_of_impossible_duration"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="video",
            name="video_duration_positive",
        ),
        migrations.RemoveConstraint(
            model_name="videoprogress",
            name="video_progress_watched_positive",
        ),
        migrations.RemoveConstraint(
            model_name="watchevent",
            name="watch_position_positive",
        ),
        migrations.RemoveConstraint(
            model_name="watchevent",
            name="watch_span_ordered",
        ),
        migrations.AddField(
            model_name="videoprogress",
            name="started_at",
            field=models.DateTimeField(
                blank=True,
                help_text="Server time of the viewer's first event.",
                null=True,
                verbose_name="started watching at",
            ),
        ),
        migrations.AddField(
            model_name="videoprogress",
            name="watch_budget_seconds",
            field=models.FloatField(
                default=0,
                help_text="The most that may count as watched: the allowance, plus the server "
                "time between events (each gap up to VIDEO_WATCH_IDLE_SECONDS) at the fastest "
                "playback rate.",
                verbose_name="watch budget (s)",
            ),
        ),
        migrations.AlterField(
            model_name="videoprogress",
            name="last_event_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(budget_from_what_was_counted, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="video",
            constraint=models.CheckConstraint(
                condition=models.Q(("duration__gt", 0), ("duration__lte", 86400)),
                name="video_duration_finite_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="videoprogress",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("watched_seconds__gte", 0),
                    ("watched_seconds__lte", models.F("watch_budget_seconds")),
                ),
                name="video_progress_watched_within_budget",
            ),
        ),
        migrations.AddConstraint(
            model_name="videoprogress",
            constraint=models.CheckConstraint(
                condition=models.Q(("position__gte", 0), ("position__lte", 86400)),
                name="video_progress_position_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="watchevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("position__gte", 0), ("position__lte", 86400)),
                name="watch_position_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="watchevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("span_from__isnull", True), ("span_to__isnull", True)),
                    models.Q(
                        ("span_from__gte", 0),
                        ("span_to__gt", models.F("span_from")),
                        ("span_to__lte", 86400),
                    ),
                    _connector="OR",
                ),
                name="watch_span_ordered_in_range",
            ),
        ),
    ]

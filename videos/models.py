"""Uploaded images and lecture videos, and what learners do while watching."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel
from core.storage import protected_storage

# No lecture runs longer than a day: a longer (or NaN, or infinite) duration in a file's header
# is a broken or hostile file. Also bounds every position and span in the database, where NaN
# compares greater than any number (so `<=` refuses it, `> 0` would not).
MAX_DURATION_SECONDS = 24 * 60 * 60


class Image(TimeStampedModel):
    """A re-encoded picture (avatar, thumbnail): metadata stripped, resized into a box."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images"
    )
    file = models.ImageField(_("file"), upload_to="images/%Y/%m/")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    format = models.CharField(_("format"), max_length=10)
    size = models.PositiveIntegerField(_("size in bytes"))

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("owner", "-created_at", "-id"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(format__in=("webp", "jpeg")), name="image_format_stored"
            ),
            models.CheckConstraint(
                condition=Q(width__gt=0, height__gt=0, size__gt=0), name="image_dimensions_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self.file)  # its name


class VideoStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


def _stream_key() -> str:
    return uuid.uuid4().hex


class Video(TimeStampedModel):
    """A lecture video: the upload lives in the protected storage; a worker makes its HLS
    renditions (protected, under `hls/<stream_key>/`) and its poster and seek thumbnails (public,
    under `videos/<stream_key>/`). Learners get it only once it is ready."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="videos"
    )
    topic = models.OneToOneField(
        "courses.Topic",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="video",
        help_text=_("The video topic this video plays in."),
    )
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), storage=protected_storage, upload_to="videos/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    duration = models.FloatField(_("duration (s)"))
    status = models.CharField(
        _("status"), max_length=10, choices=VideoStatus.choices, default=VideoStatus.PROCESSING
    )
    failure_reason = models.CharField(_("why processing failed"), max_length=300, blank=True)
    stream_key = models.CharField(max_length=32, unique=True, default=_stream_key, editable=False)
    renditions = models.JSONField(
        _("renditions"), default=list, blank=True, help_text=_("name, width, height, bandwidth")
    )
    poster = models.FileField(_("poster"), upload_to="videos/", blank=True)
    thumbnails = models.FileField(_("seek thumbnails (WebVTT)"), upload_to="videos/", blank=True)
    queued_at = models.DateTimeField(_("queued for processing at"), null=True, blank=True)
    # A worker processing the video refreshes this; a video left in processing with an old one
    # (or none, long after it was queued) is queued again (videos.services.processing).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.CharField(max_length=64, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("status", "heartbeat_at"), name="video_status_heartbeat")]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration__gt=0, duration__lte=MAX_DURATION_SECONDS),
                name="video_duration_finite_positive",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VideoStatus.values), name="video_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=VideoStatus.FAILED) | ~Q(failure_reason=""),
                name="video_failed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class WatchEventType(models.TextChoices):
    PLAY = "play", _("Play")
    PAUSE = "pause", _("Pause")
    SEEK = "seek", _("Seek")
    PROGRESS = "progress", _("Progress")
    ENDED = "ended", _("Ended")
    LEAVE = "leave", _("Leave")


class WatchEvent(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watch_events"
    )
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="watch_events")
    event_type = models.CharField(max_length=10, choices=WatchEventType.choices)
    position = models.FloatField(_("position (s)"))
    span_from = models.FloatField(_("watched from (s)"), null=True, blank=True)
    span_to = models.FloatField(_("watched to (s)"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=("video", "user", "created_at"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(position__gte=0, position__lte=MAX_DURATION_SECONDS),
                name="watch_position_in_range",
            ),
            models.CheckConstraint(
                condition=Q(span_from__isnull=True, span_to__isnull=True)
                | Q(
                    span_from__gte=0,
                    span_to__gt=F("span_from"),
                    span_to__lte=MAX_DURATION_SECONDS,
                ),
                name="watch_span_ordered_in_range",
            ),
            models.CheckConstraint(
                condition=Q(event_type__in=WatchEventType.values), name="watch_event_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event_type} @{self.position:.1f}s"


class VideoProgress(models.Model):
    """Per (user, video): where to resume, and how much has really been watched — the union of
    the watched spans, so skipping to the end counts for nothing — never more than the server
    time spent watching allows (watch_budget_seconds)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="video_progress"
    )
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="progress")
    position = models.FloatField(_("resume position (s)"), default=0)
    watched_spans = models.JSONField(_("watched spans"), default=list)
    watched_seconds = models.FloatField(_("watched seconds"), default=0)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    started_at = models.DateTimeField(
        _("started watching at"),
        null=True,
        blank=True,
        help_text=_("Server time of the viewer's first event."),
    )
    last_event_at = models.DateTimeField(null=True, blank=True)
    watch_budget_seconds = models.FloatField(
        _("watch budget (s)"),
        default=0,
        help_text=_(
            "The most that may count as watched: the allowance, plus the server time between "
            "events (each gap up to VIDEO_WATCH_IDLE_SECONDS) at the fastest playback rate."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "video"), name="video_progress_user_video"),
            models.CheckConstraint(
                condition=Q(watched_seconds__gte=0, watched_seconds__lte=F("watch_budget_seconds")),
                name="video_progress_watched_within_budget",
            ),
            models.CheckConstraint(
                condition=Q(position__gte=0, position__lte=MAX_DURATION_SECONDS),
                name="video_progress_position_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.video_id}: {self.watched_seconds:.0f}s"


class UserAvatar(models.Model):
    """Which of a user's images is their avatar (kept here: accounts may not import videos)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.image_id}"

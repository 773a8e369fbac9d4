"""Writes of the video domain: uploads (checked by content) and watch events → progress."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import FileTooLarge
from courses.models import Topic, TopicType
from courses.services.enrollments import topic_progress_record
from videos.containers import UnreadableVideo, probe
from videos.errors import InvalidVideo
from videos.models import MAX_DURATION_SECONDS, Video, VideoProgress, WatchEvent, WatchEventType
from videos.services.processing import video_outputs_delete, video_queue
from videos.spans import spans_add_within, spans_total

COMPLETION_SHARE = 0.9
EXTENSIONS = {"video/mp4": ".mp4", "video/webm": ".webm", "video/quicktime": ".mov"}


def _video_topic_check(*, topic: Topic | None, owner, video: Video | None = None) -> None:
    if topic is None:
        return
    if topic.type != TopicType.VIDEO:
        raise ValidationError({"topic": [_("Videos belong to video topics.")]})
    if not owner.is_staff and topic.lecture.course.tutor_id != owner.pk:
        raise ValidationError({"topic": [_("You can only add videos to your own courses.")]})
    taken = Video.objects.filter(topic=topic)
    if video is not None:
        taken = taken.exclude(pk=video.pk)
    if taken.exists():
        raise ValidationError({"topic": [_("This topic already has a video.")]})


def video_upload(*, owner, file: UploadedFile, title: str, topic: Topic | None = None) -> Video:
    """The type and duration come from the file's own structure, never from its name."""
    assert file.size is not None  # upload handlers always set it  # nosec B101
    if file.size > settings.VIDEO_MAX_UPLOAD_BYTES:
        raise FileTooLarge(
            _("Videos may be at most %(size)s."),
            size=filesizeformat(settings.VIDEO_MAX_UPLOAD_BYTES),
            fields={"file": [_("Too large.")]},
        )
    try:
        info = probe(file, file.size)
    except UnreadableVideo:
        raise InvalidVideo() from None
    if info.duration > MAX_DURATION_SECONDS:
        raise InvalidVideo(
            _("Videos may be at most %(hours)d hours long."), hours=MAX_DURATION_SECONDS // 3600
        )
    _video_topic_check(topic=topic, owner=owner)
    file.seek(0)
    video = Video(
        owner=owner,
        topic=topic,
        title=title,
        content_type=info.content_type,
        size=file.size,
        duration=info.duration,  # the header's, until processing reads the real one
        queued_at=timezone.now(),
    )
    extension = EXTENSIONS[info.content_type]
    video.file.save(f"{uuid.uuid4().hex}{extension}", file, save=False)
    try:
        video.save()
    except Exception:
        video.file.delete(save=False)  # no row, so no file either
        raise
    video_queue(video=video)
    return video


def video_update(*, video: Video, data: dict, editor) -> Video:
    if "topic" in data:
        _video_topic_check(topic=data["topic"], owner=editor, video=video)
    for field in ("title", "topic"):
        if field in data:
            setattr(video, field, data[field])
    video.save()
    return video


def video_delete(*, video: Video) -> None:
    """The row, then (once that has committed) the upload and everything processing made."""
    name, storage, stream_key = video.file.name, video.file.storage, video.stream_key

    def files_delete() -> None:
        if name:
            storage.delete(name)
        video_outputs_delete(stream_key=stream_key)

    with transaction.atomic():
        video.delete()
        transaction.on_commit(files_delete, robust=True)


def _watch_budget_grow(progress: VideoProgress, now) -> None:
    """The budget of watched time comes from the server's clock alone: the allowance once, at
    the first event, then the time between consecutive events at the fastest playback rate,
    each gap counting for at most VIDEO_WATCH_IDLE_SECONDS (a player left open overnight has not
    been watched overnight). Its sum never exceeds (now - started_at) x rate + allowance, however
    many events, tabs or parallel requests send it: a burst adds nothing, nor does any time the
    client claims."""
    if progress.last_event_at is None:
        progress.started_at = now
        progress.last_event_at = now
        progress.watch_budget_seconds += settings.VIDEO_WATCH_ALLOWANCE_SECONDS
        return
    elapsed = (now - progress.last_event_at).total_seconds()
    watching = min(max(elapsed, 0.0), settings.VIDEO_WATCH_IDLE_SECONDS)
    progress.watch_budget_seconds += watching * settings.VIDEO_MAX_PLAYBACK_RATE
    progress.last_event_at = max(progress.last_event_at, now)


def watch_event_record(
    *,
    user,
    video: Video,
    event_type: str,
    position: float,
    span_from: float | None = None,
    span_to: float | None = None,
) -> VideoProgress:
    """Store the event and fold its span into the progress; constant queries per event."""
    errors = {}
    if not 0 <= position <= video.duration:
        errors["position"] = [_("Give a position between 0 and the video's duration.")]
    if (span_from is None) != (span_to is None):
        errors["to" if span_to is None else "from"] = [_("Give both ends of the span.")]
    elif (
        span_from is not None
        and span_to is not None
        and not 0 <= span_from < span_to <= video.duration
    ):
        errors["from"] = [_("The span must lie within the video, and end after it starts.")]
    if event_type not in WatchEventType.values:
        errors["event_type"] = [_("Unknown event type.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        progress, _created = VideoProgress.objects.select_for_update().get_or_create(
            user=user, video=video
        )
        now = timezone.now()  # read under the row lock: concurrent events see ordered clocks
        progress.video = video  # already loaded: spares the serializer a query
        WatchEvent.objects.create(
            user=user,
            video=video,
            event_type=event_type,
            position=position,
            span_from=span_from,
            span_to=span_to,
        )
        _watch_budget_grow(progress, now)
        if span_from is not None and span_to is not None:
            room = progress.watch_budget_seconds - progress.watched_seconds
            progress.watched_spans = spans_add_within(
                progress.watched_spans, (span_from, span_to), new_seconds=room
            )
            # Float sums may land a hair above the budget; the database holds it to the budget.
            progress.watched_seconds = min(
                spans_total(progress.watched_spans), progress.watch_budget_seconds
            )
        progress.position = 0.0 if event_type == WatchEventType.ENDED else position
        newly_completed = (
            progress.completed_at is None
            and progress.watched_seconds >= COMPLETION_SHARE * video.duration
        )
        if newly_completed:
            progress.completed_at = now
        progress.save()
        if newly_completed and video.topic is not None:
            topic_progress_record(user=user, topic=video.topic, completed=True)
    return progress

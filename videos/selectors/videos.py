"""Reads of the video domain, and who may watch what."""

import math
from typing import TypedDict

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from courses.errors import NotEntitled
from courses.selectors.enrollments import course_is_visible, user_can_study
from videos import playback, transcoding
from videos.errors import VideoNotReady
from videos.models import Video, VideoProgress, VideoStatus, WatchEvent


def video_list(*, user) -> QuerySet[Video]:
    videos = Video.objects.select_related("topic").order_by("-created_at", "-id")
    return videos if user.is_staff else videos.filter(owner=user)


def video_get_for_editing(*, user, video_id: int) -> Video:
    """The caller's own video (staff: any); another's is 404."""
    return get_object_or_404(video_list(user=user), pk=video_id)


def video_get_for_watching(*, user, video_id: int) -> Video:
    """Checked on every request: staff, the owner, or whoever may study the video's topic; a
    video that is not ready (processing, or failed) does not exist for learners."""
    video = get_object_or_404(Video.objects.select_related("topic__lecture__course"), pk=video_id)
    if user.is_authenticated and (user.is_staff or video.owner_id == user.pk):
        return video
    if video.status != VideoStatus.READY:
        raise Http404
    topic = video.topic
    if topic is None or not course_is_visible(user, topic.lecture.course):
        raise Http404
    if not user_can_study(user, topic):
        raise NotEntitled()
    return video


def video_progress(*, user, video_id: int) -> VideoProgress:
    """The caller's progress in a video they may watch; before their first event, an unsaved one
    at zero."""
    video = video_get_for_watching(user=user, video_id=video_id)
    return VideoProgress.objects.filter(user=user, video=video).first() or VideoProgress(
        user=user, video=video
    )


def watch_history(*, video: Video, user_id: int | None) -> QuerySet[WatchEvent]:
    events = video.watch_events.select_related("user").order_by("created_at", "id")
    return events.filter(user_id=user_id) if user_id else events


class TopicVideo(TypedDict):
    id: int
    duration: float | None  # None: a row from before durations were checked; JSON has no NaN
    content_type: str


def topic_video(topic) -> TopicVideo | None:
    """What a topic's content says of its video (None for other topics, or none uploaded)."""
    if topic.type != "video":
        return None
    video = (
        Video.objects.filter(topic=topic, status=VideoStatus.READY)
        .values("id", "duration", "content_type")
        .first()
    )
    if video is None:
        return None
    duration = video["duration"]
    return TopicVideo(
        id=video["id"],
        duration=duration if math.isfinite(duration) else None,
        content_type=video["content_type"],
    )


class Playback(TypedDict):
    hls: str
    mp4: str
    expires: int
    video: Video


def video_playback(*, user, video_id: int, now: float | None = None) -> Playback:
    """Signed paths to the stream of a video the caller may watch now (entitlement checked
    here, so none is issued after a refund; those issued die at their expiry)."""
    video = video_get_for_watching(user=user, video_id=video_id)
    if video.status != VideoStatus.READY:
        raise VideoNotReady()
    expires = playback.playback_expiry(duration=video.duration, now=now)
    signed = {"user_id": user.pk, "stream_key": video.stream_key, "expires": expires}
    return Playback(
        hls=playback.signed_path(**signed, file=transcoding.MASTER),
        mp4=playback.signed_path(**signed, file=transcoding.FALLBACK),
        expires=expires,
        video=video,
    )

"""The data stream.py measures against, prepared in the bench database and a protected-media folder.

A 50 MB video file (tiny.mp4's bytes padded with random bytes: the stream view never re-probes),
its Video row, a published course with one video topic it belongs to, learners enrolled through
`courses.services.enrollments.enrollment_grant`, and an access token for each through
`accounts.services.auth_session_start`.
"""

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from bench import harness, load

COURSE_TITLE = "Bench stream course"
TUTOR_NAME = "bench-stream-tutor"
LEARNER_PREFIX = "bench-stream-learner-"
HISTORY_NAME = "bench-stream-history"
USER_AGENT = "bench/stream.py"
FILE_NAME = "videos/bench/stream.mp4"
TINY_MP4 = harness.ROOT / "videos" / "tests" / "fixtures" / "tiny.mp4"
DURATION = 600.0
PAD_CHUNK = 1024 * 1024


@dataclass
class Fixture:
    video_id: int
    path: Path  # the file on disk, read by the plain-file baseline
    size: int
    duration: float
    tokens: list[str]  # one per learner of the events load
    history_token: str  # the learner whose history grows in the in-process query count
    tokens_expire_at: float  # time.time() of the earliest expiry


def stream_path(video_id: int) -> str:
    return f"/api/videos/{video_id}/stream/"


def events_path(video_id: int) -> str:
    return f"/api/videos/{video_id}/events/"


def _file_write(path: Path, size: int) -> None:
    """tiny.mp4's bytes, then random bytes up to `size`; flushed, and then in the page cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = TINY_MP4.read_bytes()[:size]
    with open(path, "wb") as handle:
        handle.write(head)
        remaining = size - len(head)
        while remaining > 0:
            step = min(PAD_CHUNK, remaining)
            handle.write(os.urandom(step))
            remaining -= step


def _user(username: str, **extra):
    from django.contrib.auth.hashers import make_password

    from accounts.models import CustomUser

    user, _created = CustomUser.objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@example.com", "password": make_password(None), **extra},
    )
    return user


def django_prepare(*, media_root: Path, size: int, learners: int) -> Fixture:
    """Users, course, topic, the file and its Video row, enrollments and tokens; the Fixture."""
    harness.django_setup()
    from django.conf import settings
    from django.db import connections, transaction

    from accounts.models import AuthSession, Role
    from accounts.services import ClientInfo, auth_session_start
    from courses.models import Course, Lecture, Topic, TopicType
    from courses.services.enrollments import enrollment_grant
    from videos.models import Video, VideoProgress, WatchEvent

    if Path(settings.PROTECTED_MEDIA_ROOT).resolve() != media_root.resolve():
        raise RuntimeError("PROTECTED_MEDIA_ROOT is not the bench folder")
    began = time.monotonic()
    tutor = _user(TUTOR_NAME, role=Role.TUTOR)
    # Earlier runs: their videos (events and progress cascade), course and sessions go.
    Video.objects.filter(owner=tutor).delete()
    Course.objects.filter(title=COURSE_TITLE).delete()
    names = [f"{LEARNER_PREFIX}{i:02d}" for i in range(learners)] + [HISTORY_NAME]
    users = [_user(name) for name in names]
    AuthSession.objects.filter(user__in=users).delete()

    path = media_root / FILE_NAME
    _file_write(path, size)
    client = ClientInfo(user_agent=USER_AGENT, ip=load.HOST)
    expires_at = time.time() + settings.ACCESS_TOKEN_LIFETIME.total_seconds()
    with transaction.atomic():
        course = Course.objects.create(title=COURSE_TITLE, tutor=tutor, is_published=True)
        lecture = Lecture.objects.create(course=course, title="Bench lecture", position=1)
        topic = Topic.objects.create(
            lecture=lecture, title="Bench video", position=1, type=TopicType.VIDEO
        )
        video = Video.objects.create(
            owner=tutor,
            topic=topic,
            title="Bench stream video",
            file=FILE_NAME,
            content_type="video/mp4",
            size=size,
            duration=DURATION,
        )
        tokens = []
        for user in users:
            enrollment_grant(user=user, course=course)
            tokens.append(auth_session_start(user=user, client=client)[1].access)
    harness.database_vacuum(
        [model._meta.db_table for model in (WatchEvent, VideoProgress, Video, AuthSession)]
    )
    print(
        f"prepared in {time.monotonic() - began:.1f} s: {size / 1e6:.0f} MB file {path}, video "
        f"#{video.pk} ({DURATION:.0f} s) in a video topic of course #{course.pk}, "
        f"{len(users)} enrolled learners with access tokens"
    )
    connections.close_all()
    return Fixture(
        video_id=video.pk,
        path=path,
        size=size,
        duration=DURATION,
        tokens=tokens[:learners],
        history_token=tokens[learners],
        tokens_expire_at=expires_at,
    )


def heartbeat(n: int, duration: float, step: float = 2.0) -> bytes:
    """The n-th progress heartbeat of one learner: the playhead advances by `step` seconds and
    reports the span just played (wrapping round before the end of the video)."""
    lap = int((duration - 2 * step) // step)
    position = step * (1 + n % lap)
    body = {"event_type": "progress", "position": position, "from": position - step, "to": position}
    return json.dumps(body).encode()

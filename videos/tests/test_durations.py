"""A video's duration is a finite number of seconds up to a day: NaN, infinity and absurd values
in a file's header are refused at upload (400, nothing stored), the database refuses them too,
and a row written before the rule cannot break a list or a topic."""

import io
import math
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import TestCase

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.tests.factories import EnrollmentFactory
from videos.containers import probe
from videos.models import MAX_DURATION_SECONDS, Video, VideoProgress, WatchEvent
from videos.tests.factories import VideoFactory
from videos.tests.video_files import mp4, webm

MP4 = (Path(__file__).parent / "fixtures" / "tiny.mp4").read_bytes()


def upload(client, data: bytes, name: str = "lecture.webm"):
    file = SimpleUploadedFile(name, data, content_type="video/webm")
    return client.post("/api/videos/", {"file": file, "title": "Lecture"}, format="multipart")


def stored_videos() -> list[Path]:
    storage = Video._meta.get_field("file").storage
    assert isinstance(storage, FileSystemStorage)
    root = Path(storage.location)
    return sorted(root.rglob("*")) if root.exists() else []


def test_the_hand_made_headers_are_read_like_real_files():
    assert probe(io.BytesIO(webm()), len(webm())).duration == pytest.approx(3.0)
    data = mp4(1000, 4500)
    assert probe(io.BytesIO(data), len(data)).duration == pytest.approx(4.5)


HOSTILE = {
    "webm-nan": webm(math.nan),
    "webm-infinity": webm(math.inf),
    "webm-minus-infinity": webm(-math.inf),
    "webm-negative": webm(-3000.0),
    "webm-zero": webm(0.0),
    "webm-huge-double": webm(1e308, scale=b"\xff" * 8),  # overflows to infinity
    "webm-zero-scale": webm(3000.0, scale=b"\x00"),
    "webm-scale-of-9-bytes": webm(3000.0, scale=b"\x01" * 9),
    "webm-doctype-of-4kb": webm(doctype=b"webm" + b"\x00" * 4096),
    "mp4-2^64-seconds": mp4(1, 2**64 - 1),
    "mp4-136-years": mp4(1, 2**32 - 1, version=0),
    "mp4-a-day-and-a-second": mp4(1, MAX_DURATION_SECONDS + 1),
}


@pytest.mark.django_db
@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_non_finite_or_absurd_duration_is_400_and_nothing_is_stored(tutor, data):
    before = stored_videos()
    response = upload(client_for(tutor), data)
    error = assert_error_envelope(response, 400, "invalid_video")
    assert list(error["fields"]) == ["file"]
    assert not Video.objects.exists()
    assert stored_videos() == before


@pytest.mark.django_db
def test_a_video_of_exactly_a_day_is_accepted(tutor):
    response = upload(client_for(tutor), mp4(1, MAX_DURATION_SECONDS), name="day.mp4")
    assert response.status_code == 201, response.content
    assert response.json()["duration"] == MAX_DURATION_SECONDS


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0.0, MAX_DURATION_SECONDS + 1.0])
@pytest.mark.django_db
def test_the_database_refuses_an_impossible_duration(tutor, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        VideoFactory(topic=None, owner=tutor, duration=value)


@pytest.mark.parametrize(
    "fields",
    [
        {"position": math.nan},
        {"position": math.inf},
        {"position": 1.0, "span_from": 0.0, "span_to": math.nan},
        {"position": 1.0, "span_from": math.nan, "span_to": 1.0},
    ],
)
@pytest.mark.django_db
def test_the_database_refuses_nan_positions_and_spans(tutor, fields):
    if connection.vendor == "sqlite" and "span_to" in fields:
        pytest.skip("SQLite stores a NaN as NULL, so there is no NaN span to refuse")
    video = VideoFactory(topic=None, owner=tutor, duration=9)
    with pytest.raises(IntegrityError), transaction.atomic():
        WatchEvent.objects.create(user=tutor, video=video, event_type="progress", **fields)


# --- A bad row written before the rule ---------------------------------------------------------


@pytest.fixture
def video_of_nan_duration():
    """A video row as the old upload left it, with the constraint (that now refuses it) lifted
    for this test's transaction only."""
    if connection.vendor != "postgresql":
        pytest.skip("lifts a PostgreSQL constraint for one transaction; SQLite cannot store NaN")
    video = VideoFactory(file="videos/broken.webm", content_type="video/webm", duration=3.0)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks block the ALTER
        cursor.execute("ALTER TABLE videos_video DROP CONSTRAINT video_duration_finite_positive")
        cursor.execute("UPDATE videos_video SET duration = 'NaN' WHERE id = %s", [video.pk])
    return video


@pytest.mark.django_db
def test_a_bad_row_never_breaks_the_video_lists_or_its_topic(video_of_nan_duration):
    video = video_of_nan_duration
    for reader in (video.owner, StaffFactory()):
        response = client_for(reader).get("/api/videos/")
        assert response.status_code == 200
        (item,) = response.json()["results"]
        assert (item["id"], item["duration"]) == (video.pk, None)
        detail = client_for(reader).get(f"/api/videos/{video.pk}/")
        assert (detail.status_code, detail.json()["duration"]) == (200, None)
    learner = UserFactory()
    EnrollmentFactory(user=learner, course=video.topic.lecture.course)
    student = client_for(learner)
    response = student.get(f"/api/topics/{video.topic_id}/")
    assert response.status_code == 200
    assert response.json()["video"] == {
        "id": video.pk,
        "duration": None,
        "content_type": "video/webm",
    }
    progress = student.get(f"/api/videos/{video.pk}/progress/")
    assert (progress.status_code, progress.json()["percent"]) == (200, 0.0)
    event = student.post(f"/api/videos/{video.pk}/events/", {"event_type": "play", "position": 0})
    assert_error_envelope(event, 400, "validation_error")
    assert not VideoProgress.objects.exists()


@pytest.mark.django_db
def test_the_migration_removes_rows_of_impossible_duration_and_their_files(video_of_nan_duration):
    from importlib import import_module

    migration = import_module("videos.migrations.0004_remove_videos_of_impossible_duration")
    storage = Video._meta.get_field("file").storage
    storage.save(video_of_nan_duration.file.name, io.BytesIO(b"broken"))
    healthy = VideoFactory(topic=None, owner=TutorFactory(), file="videos/fine.mp4")

    class SchemaEditor:
        connection = connection

    with TestCase.captureOnCommitCallbacks(execute=True):
        migration.remove_videos_of_impossible_duration(apps, SchemaEditor())

    assert list(Video.objects.values_list("pk", flat=True)) == [healthy.pk]
    assert not storage.exists(video_of_nan_duration.file.name)

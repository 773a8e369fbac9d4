"""A worker's processing of an upload with real ffmpeg: renditions stored under the stream's key,
a failed source kept from learners, and every way a run can be repeated or interrupted."""

import io
import time
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory, UserFactory
from core.storage import protected_storage
from courses.models import Topic, TopicType
from courses.tests.factories import EnrollmentFactory, TopicFactory
from tools.videos import clip
from videos import transcoding
from videos.models import Video, VideoStatus
from videos.selectors.videos import topic_video
from videos.services import processing
from videos.services.videos import video_delete, video_upload
from videos.tests.video_files import mp4

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def queued(monkeypatch) -> list[dict]:
    """What uploads queue, instead of eagerly processing them at their commit."""
    calls: list[dict] = []
    monkeypatch.setattr(
        processing, "enqueue_on_commit", lambda task, **kwargs: calls.append({task: kwargs})
    )
    return calls


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return clip(
        tmp_path_factory.mktemp("clips") / "lecture.mp4", seconds=2, size="320x240"
    ).read_bytes()


def uploaded(data: bytes, *, tutor=None, name="lecture.mp4") -> Video:
    tutor = tutor or TutorFactory()
    topic = cast(Topic, TopicFactory(type=TopicType.VIDEO, lecture__course__tutor=tutor))
    file = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return video_upload(owner=tutor, file=file, title="Lecture", topic=topic)


def stored(stream_key: str) -> tuple[set[str], set[str]]:
    """Every file of the stream: (protected, public) names."""

    def walk(storage, prefix: str) -> set[str]:
        try:
            folders, files = storage.listdir(prefix)
        except FileNotFoundError:
            return set()
        found = {prefix + name for name in files}
        for folder in folders:
            found |= walk(storage, f"{prefix}{folder}/")
        return found

    return (
        walk(protected_storage(), f"hls/{stream_key}/"),
        walk(default_storage, f"videos/{stream_key}/"),
    )


@pytest.fixture
def processed(clip_bytes):
    video = uploaded(clip_bytes)
    outcome = processing.video_process(video_id=video.pk, worker="task-1")
    video.refresh_from_db()
    return outcome, video


class TestProcessed:
    def test_an_upload_is_processing_until_a_worker_has_made_its_stream(self, clip_bytes, queued):
        video = uploaded(clip_bytes)
        assert video.status == VideoStatus.PROCESSING
        assert video.queued_at is not None
        assert stored(video.stream_key) == (set(), set())
        assert queued == [{"videos.tasks.video_process": {"video_id": video.pk}}]

    def test_the_stream_is_stored_under_its_key_and_the_video_is_ready(self, processed):
        outcome, video = processed
        protected, public = stored(video.stream_key)
        key = video.stream_key
        assert outcome == "ready"
        assert video.status == VideoStatus.READY and video.failure_reason == ""
        assert f"hls/{key}/master.m3u8" in protected
        assert f"hls/{key}/fallback.mp4" in protected
        assert any(name.startswith(f"hls/{key}/240p/seg_") for name in protected)
        assert public == {
            f"videos/{key}/poster.jpg",
            f"videos/{key}/thumbnails.jpg",
            f"videos/{key}/thumbnails.vtt",
        }
        assert (video.poster.name, video.thumbnails.name) == (
            f"videos/{key}/poster.jpg",
            f"videos/{key}/thumbnails.vtt",
        )
        assert [(r["name"], r["height"]) for r in video.renditions] == [("240p", 240)]
        assert video.duration == pytest.approx(2.0, abs=0.2)
        assert video.heartbeat_at is None and video.processed_at is not None

    def test_the_tutor_sees_the_state_renditions_and_poster(self, processed):
        _outcome, video = processed
        body = client_for(video.owner).get(f"/api/videos/{video.pk}/").json()
        assert body["status"] == "ready" and body["failure_reason"] == ""
        assert body["renditions"][0]["name"] == "240p"
        assert body["poster"].endswith(f"/videos/{video.stream_key}/poster.jpg")


class TestFailed:
    def test_a_source_ffmpeg_cannot_decode_fails_with_a_reason_and_is_kept_from_learners(self):
        # A header that says 3 s, and nothing to decode behind it.
        video = uploaded(mp4(1000, 3000))
        assert processing.video_process(video_id=video.pk, worker="task-1") == "failed"
        video.refresh_from_db()
        assert video.status == VideoStatus.FAILED
        assert video.failure_reason and "/" not in video.failure_reason
        assert stored(video.stream_key) == (set(), set())
        learner = UserFactory()
        EnrollmentFactory(user=learner, course=video.topic.lecture.course)
        assert topic_video(video.topic) is None
        for path in ("playback", "stream", "progress"):
            response = client_for(learner).get(f"/api/videos/{video.pk}/{path}/")
            assert response.status_code == 404, path
        body = client_for(video.owner).get(f"/api/videos/{video.pk}/").json()
        assert (body["status"], body["failure_reason"]) == ("failed", video.failure_reason)

    def test_a_video_still_processing_is_not_offered_to_learners_either(self, clip_bytes):
        video = uploaded(clip_bytes)
        learner = UserFactory()
        EnrollmentFactory(user=learner, course=video.topic.lecture.course)
        assert topic_video(video.topic) is None
        assert client_for(learner).get(f"/api/videos/{video.pk}/playback/").status_code == 404
        owner = client_for(video.owner).get(f"/api/videos/{video.pk}/playback/")
        assert owner.status_code == 409 and owner.json()["error"]["code"] == "video_not_ready"

    def test_giving_up_after_the_last_retry_fails_the_video_for_its_claimer_only(self, clip_bytes):
        video = uploaded(clip_bytes)
        assert processing._claim(video.pk, "task-1")
        assert not processing.video_gave_up(video_id=video.pk, worker="task-2")
        assert processing.video_gave_up(video_id=video.pk, worker="task-1")
        video.refresh_from_db()
        assert video.status == VideoStatus.FAILED and "upload it again" in video.failure_reason


class TestRepeated:
    def test_a_second_run_of_a_ready_video_does_nothing(self, processed):
        _outcome, video = processed
        before = stored(video.stream_key)
        assert processing.video_process(video_id=video.pk, worker="task-1") == "skipped"
        assert processing.video_process(video_id=video.pk, worker="task-2") == "skipped"
        assert stored(video.stream_key) == before

    def test_another_run_does_not_take_a_video_whose_worker_is_beating(self, clip_bytes):
        video = uploaded(clip_bytes)
        assert processing._claim(video.pk, "task-1")
        assert processing.video_process(video_id=video.pk, worker="task-2") == "skipped"
        Video.objects.filter(pk=video.pk).update(
            heartbeat_at=timezone.now() - timedelta(minutes=10)
        )
        assert processing.video_process(video_id=video.pk, worker="task-2") == "ready"

    def test_a_redelivered_task_takes_its_claim_back_and_replaces_what_it_left(self, clip_bytes):
        """The worker died mid-upload of the outputs: its redelivery (same task id) runs at once,
        and the stream ends with exactly the files of one run."""
        video = uploaded(clip_bytes)
        assert processing._claim(video.pk, "task-1")
        key = video.stream_key
        protected_storage().save(f"hls/{key}/240p/seg_00099.ts", io.BytesIO(b"left over"))
        default_storage.save(f"videos/{key}/poster.jpg", io.BytesIO(b"half a poster"))
        assert processing.video_process(video_id=video.pk, worker="task-1") == "ready"
        protected, public = stored(key)
        assert f"hls/{key}/240p/seg_00099.ts" not in protected
        assert len(public) == 3
        with default_storage.open(f"videos/{key}/poster.jpg") as poster:
            assert poster.read(3) == b"\xff\xd8\xff"  # a JPEG, not the leftover

    def test_a_video_deleted_while_processing_leaves_no_files(self, clip_bytes, monkeypatch):
        video = uploaded(clip_bytes)
        real = transcoding.transcode

        def transcode_then_delete(**kwargs):
            result = real(**kwargs)
            Video.objects.filter(pk=video.pk).delete()
            return result

        monkeypatch.setattr(transcoding, "transcode", transcode_then_delete)
        assert processing.video_process(video_id=video.pk, worker="task-1") == "skipped"
        assert stored(video.stream_key) == (set(), set())

    def test_deleting_a_ready_video_deletes_its_stream(self, clip_bytes):
        video = uploaded(clip_bytes)
        processing.video_process(video_id=video.pk, worker="task-1")
        upload = Path(video.file.path)
        video_delete(video=video)
        assert stored(video.stream_key) == (set(), set())
        assert not upload.exists()


class TestRequeue:
    def test_videos_left_processing_are_queued_again_once_per_period(self, settings, clip_bytes):
        settings.VIDEO_REQUEUE_AFTER_SECONDS = 60
        fresh, forgotten, beating = (uploaded(clip_bytes) for _ in range(3))
        long_ago = timezone.now() - timedelta(minutes=5)
        Video.objects.filter(pk=forgotten.pk).update(queued_at=long_ago, created_at=long_ago)
        Video.objects.filter(pk=beating.pk).update(
            queued_at=long_ago, created_at=long_ago, heartbeat_at=timezone.now()
        )
        # Eager here (no broker): the requeued task runs at once.
        assert processing.videos_requeue() == 1
        statuses = dict(Video.objects.values_list("pk", "status"))
        assert statuses == {
            fresh.pk: VideoStatus.PROCESSING,
            forgotten.pk: VideoStatus.READY,
            beating.pk: VideoStatus.PROCESSING,
        }
        assert processing.videos_requeue() == 0

    def test_the_requeue_takes_a_video_whose_worker_stopped_beating(self, settings, clip_bytes):
        settings.VIDEO_REQUEUE_AFTER_SECONDS = 60
        video = uploaded(clip_bytes)
        long_ago = timezone.now() - timedelta(minutes=5)
        Video.objects.filter(pk=video.pk).update(
            queued_at=long_ago, heartbeat_at=long_ago, processed_by="dead-task"
        )
        assert processing.videos_requeue() == 1
        video.refresh_from_db()
        assert video.status == VideoStatus.READY and video.processed_by != "dead-task"


def test_the_heartbeat_beats_while_the_transcode_runs(settings, clip_bytes):
    settings.VIDEO_HEARTBEAT_SECONDS = 0.05
    video = uploaded(clip_bytes)
    assert processing._claim(video.pk, "task-1")
    Video.objects.filter(pk=video.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    beaten = Video.objects.filter(pk=video.pk, heartbeat_at__gt=timezone.now() - timedelta(hours=1))
    with processing._heartbeat(video.pk, "task-1"):
        deadline = time.monotonic() + 10  # a loaded machine may start the beat late, not never
        while not beaten.exists():
            assert time.monotonic() < deadline, "the heartbeat never beat"
            time.sleep(0.05)


def test_on_the_object_store_the_stream_goes_to_its_buckets_and_leaves_with_the_video(
    settings, object_store, clip_bytes
):
    settings.STORAGES = object_store.storages()
    video = uploaded(clip_bytes)
    assert processing.video_process(video_id=video.pk, worker="task-1") == "ready"
    protected = object_store.keys(object_store.protected_bucket)
    public = object_store.keys(object_store.public_bucket)
    key = video.stream_key
    assert sum(f"/hls/{key}/" in name for name in protected) >= 4  # master, variant, segment, mp4
    assert sum(f"/videos/{key}/" in name for name in public) == 3
    head = object_store.client().head_object(
        Bucket=object_store.protected_bucket,
        Key=next(name for name in protected if name.endswith(".ts")),
    )
    assert head["ContentType"] == "video/mp2t"  # what nginx serves it as
    video.refresh_from_db()
    video_delete(video=video)
    assert not [n for n in object_store.keys(object_store.protected_bucket) if key in n]
    assert not [n for n in object_store.keys(object_store.public_bucket) if key in n]

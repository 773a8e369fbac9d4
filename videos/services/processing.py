"""A worker's processing of an uploaded video: the HLS ladder, the MP4 fallback, the poster and
the seek thumbnails (videos.transcoding), stored under names made of the video's stream key.

Idempotent and safe to run twice: a run claims the video (a heartbeat no other run may take
over while it is fresh), every file has a fixed name and a run first clears what an interrupted
one left, and only the claiming run may mark the video ready or failed.
"""

import contextlib
import dataclasses
import logging
import mimetypes
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext

from core.storage import protected_storage
from core.tasks_queue import enqueue_now, enqueue_on_commit
from videos import transcoding
from videos.models import Video, VideoStatus
from videos.playback import stream_name

logger = logging.getLogger(__name__)

# The types a stream's files are stored with (an S3 storage records the type guessed from the
# name, and the store serves it back); Python's table has no .ts.
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("video/mp2t", ".ts")

TASK = "videos.tasks.video_process"
REQUEUE_BATCH = 100


def public_name(stream_key: str, file: str = "") -> str:
    return f"videos/{stream_key}/{file}"


def _stale_before():
    return timezone.now() - timedelta(seconds=settings.VIDEO_REQUEUE_AFTER_SECONDS)


def _claim(video_id: int, worker: str) -> bool:
    """Take the video for this run: still processing, and no other run has beaten recently (a
    redelivered task keeps its id, so it takes its own claim back at once)."""
    mine = (
        Q(processed_by=worker) | Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=_stale_before())
    )
    claimed = Video.objects.filter(mine, pk=video_id, status=VideoStatus.PROCESSING).update(
        heartbeat_at=timezone.now(), processed_by=worker
    )
    return claimed == 1


@contextlib.contextmanager
def _heartbeat(video_id: int, worker: str):
    """Beats every VIDEO_HEARTBEAT_SECONDS from a thread while the transcode runs."""
    stopped = threading.Event()

    def beat() -> None:
        try:
            while not stopped.wait(settings.VIDEO_HEARTBEAT_SECONDS):
                Video.objects.filter(pk=video_id, processed_by=worker).update(
                    heartbeat_at=timezone.now()
                )
        except Exception:
            logger.warning("video %s: heartbeat failed", video_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"video-{video_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join()


def storage_tree_delete(storage: Storage, prefix: str) -> int:
    """Delete every file under `prefix` (a folder name ending in /); how many there were."""
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:
        return 0
    for name in files:
        storage.delete(prefix + name)
    return len(files) + sum(storage_tree_delete(storage, f"{prefix}{f}/") for f in folders)


def _store(storage: Storage, name: str, path: Path) -> None:
    with path.open("rb") as handle:
        stored = storage.save(name, File(handle, name=path.name))
    if stored != name:  # the storage renamed it: the name was taken after the folder was cleared
        storage.delete(stored)
        raise RuntimeError(f"{name} was stored as {stored}")


def video_outputs_delete(*, stream_key: str) -> None:
    """Everything processing made of a stream (on a video's deletion, or a run that lost it)."""
    storage_tree_delete(protected_storage(), stream_name(stream_key))
    storage_tree_delete(default_storage, public_name(stream_key))


def _outputs_store(stream_key: str, out_dir: Path, result: transcoding.TranscodeResult) -> None:
    """The poster and thumbnails in the public storage, the rest (the stream) protected; first
    whatever an interrupted run left."""
    video_outputs_delete(stream_key=stream_key)
    public = {result.poster, result.thumbnails_sprite, result.thumbnails_vtt}
    protected = protected_storage()
    for file in result.files:
        if file in public:
            _store(default_storage, public_name(stream_key, file), out_dir / file)
        else:
            _store(protected, stream_name(stream_key, file), out_dir / file)


def _finish(video_id: int, worker: str, **fields) -> bool:
    updated = Video.objects.filter(
        pk=video_id, status=VideoStatus.PROCESSING, processed_by=worker
    ).update(heartbeat_at=None, processed_at=timezone.now(), **fields)
    return updated == 1


def video_fail(*, video_id: int, worker: str, reason: str) -> bool:
    """Mark the video failed with `reason` (shown to its tutor); never offered to learners."""
    return _finish(video_id, worker, status=VideoStatus.FAILED, failure_reason=reason[:300])


def video_process(*, video_id: int, worker: str) -> str:
    """Process the video: "ready", "failed" (the source is unusable: the reason is stored) or
    "skipped" (gone, done, or another run holds it). Storage and timeout errors propagate, for
    the task to retry."""
    if not _claim(video_id, worker):
        return "skipped"
    video = Video.objects.get(pk=video_id)
    folder = Path(tempfile.mkdtemp(prefix=f"video-{video_id}-"))
    try:
        source = folder / ("source" + Path(video.file.name or "").suffix)
        with video.file.open("rb") as stored, source.open("wb") as local:
            shutil.copyfileobj(stored, local, 1024 * 1024)
        try:
            info = transcoding.probe(source)
            with _heartbeat(video_id, worker):
                result = transcoding.transcode(
                    source=source,
                    out_dir=folder / "out",
                    info=info,
                    segment_seconds=settings.VIDEO_SEGMENT_SECONDS,
                    timeout=settings.VIDEO_PROCESS_TIME_LIMIT,
                )
        except transcoding.SourceUnusable as unusable:
            logger.info("video %s unusable: %s", video_id, unusable.stderr_tail or unusable.reason)
            video_fail(video_id=video_id, worker=worker, reason=unusable.reason)
            return "failed"
        _outputs_store(video.stream_key, folder / "out", result)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ready = _finish(
        video_id,
        worker,
        status=VideoStatus.READY,
        duration=result.duration,
        renditions=[dataclasses.asdict(rendition) for rendition in result.renditions],
        poster=public_name(video.stream_key, result.poster),
        thumbnails=public_name(video.stream_key, result.thumbnails_vtt),
        failure_reason="",
    )
    if not ready:  # deleted, or taken over meanwhile: the other run (or nobody) owns the files
        if not Video.objects.filter(pk=video_id).exists():
            video_outputs_delete(stream_key=video.stream_key)
        return "skipped"
    return "ready"


def video_gave_up(*, video_id: int, worker: str) -> bool:
    """The task's last retry failed (storage or time limit): failed, with a generic reason."""
    return video_fail(
        video_id=video_id,
        worker=worker,
        reason=gettext("The video could not be processed. Please upload it again."),
    )


def videos_requeue() -> int:
    """Queue again the videos left processing: queued (or beaten) longer ago than
    VIDEO_REQUEUE_AFTER_SECONDS. Each is queued at most once per that period."""
    last_sign = Greatest(
        Coalesce("heartbeat_at", "created_at"), Coalesce("queued_at", "created_at")
    )
    stale = (
        Video.objects.alias(last_sign=last_sign)
        .filter(status=VideoStatus.PROCESSING, last_sign__lt=_stale_before())
        .order_by("created_at")
        .values_list("pk", flat=True)[:REQUEUE_BATCH]
    )
    ids = list(stale)
    Video.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    for video_id in ids:
        enqueue_now(TASK, video_id=video_id)
    return len(ids)


def video_queue(*, video: Video) -> None:
    """Queue a new upload once it has committed (queued_at was set when it was made)."""
    enqueue_on_commit(TASK, video_id=video.pk)

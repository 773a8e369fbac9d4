"""Scenario 5: video processing on the Celery worker, through faults. The worker's pool process is
killed mid-transcode (its task is given back and finished, with one run's files and no other);
the broker is down during an upload (the upload is accepted, and processed once the broker is
back and beat's requeue finds it); the object store is down (uploads and playback
get a clear 503, nothing is written)."""

import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

from faults.context import Context, children
from tools import videos
from tools.fixtures import Check
from tools.procs import stop

# The clip the worker is killed on: long enough that its transcode is still running when ffmpeg
# is found (about 10 s on two cores).
LONG_CLIP = {"seconds": 30, "size": "1280x720"}
STORE_DOWN_BOUND = 10.0  # seconds: a refused connection fails at once, plus the upload itself


def _ffmpeg_of(worker_pid: int, timeout: float = 60.0) -> tuple[int, int] | None:
    """(pool process, ffmpeg) once a pool process of the worker runs ffmpeg."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pool_pid in children(worker_pid):
            for child in children(pool_pid):
                command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                if command and command[0].endswith(b"ffmpeg") and b"hls" in command:
                    return pool_pid, child
        time.sleep(0.1)
    return None


def _stream_files(ctx: Context, stream_key: str) -> tuple[list[str], list[str]]:
    store = ctx.stack.object_store
    return (
        store.keys(store.protected_bucket, f"hls/{stream_key}/"),
        store.keys(store.public_bucket, f"videos/{stream_key}/"),
    )


def _one_runs_files(ctx: Context, stream_key: str) -> tuple[bool, str]:
    """Every file the playlists name is stored, and nothing else: a killed run left nothing."""
    store = ctx.stack.object_store
    protected, public = _stream_files(ctx, stream_key)
    prefix = f"hls/{stream_key}/"
    client = store.client()

    def text(key: str) -> str:
        return client.get_object(Bucket=store.protected_bucket, Key=key)["Body"].read().decode()

    variants = [
        line for line in text(prefix + "master.m3u8").splitlines() if line.endswith(".m3u8")
    ]
    named = {prefix + "master.m3u8", prefix + "fallback.mp4"}
    for variant in variants:
        folder = variant.rsplit("/", 1)[0] + "/"
        named.add(prefix + variant)
        named |= {prefix + folder + line for line in text(prefix + variant).splitlines()
                  if line.endswith(".ts")}  # fmt: skip
    extra, missing = set(protected) - named, named - set(protected)
    ok = not extra and not missing and len(public) == 3
    return ok, (f"{len(protected)} protected files ({len(variants)} renditions), {len(public)} "
                f"public; not named by a playlist: {sorted(extra) or 'none'}; missing: "
                f"{sorted(missing) or 'none'}")  # fmt: skip


def _killed_mid_transcode(ctx: Context, people: dict, folder: Path) -> list[Check]:
    worker = ctx.stack.processes["worker"]
    tutor = videos.login(ctx.stack, people["tutor"])
    data = videos.clip(folder / "long.mp4", **LONG_CLIP).read_bytes()
    reply = videos.upload(ctx.stack, tutor, data, topic=people["topic"])
    if reply.status != 201:
        return [Check("upload of the clip to kill the worker on", False, reply.summary)]
    video_id = reply.json()["id"]
    found = _ffmpeg_of(worker.pid)
    if found is None:
        log = ctx.stack.worker_log()[-800:]
        return [Check("a pool process ran ffmpeg for the upload", False, log)]
    pool_pid, ffmpeg_pid = found
    for pid in (pool_pid, ffmpeg_pid):  # as the kernel's OOM killer would
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    video = videos.wait_processed(ctx.stack, tutor, video_id)
    took = time.monotonic() - killed_at
    log = ctx.stack.worker_log()
    ok, detail = _one_runs_files(ctx, videos.stream_key(ctx.stack, video_id))
    return [
        Check("killed mid-transcode: the task is given back (WorkerLostError) and retried",
              "WorkerLostError" in log and log.count("video_process[") >= 2,
              f"{log.count('video_process[')} log lines of the task"),
        Check("killed mid-transcode: the video ends ready", video.get("status") == "ready",
              f"{video.get('status')} {video.get('failure_reason', '')!r} {took:.1f} s after "
              "the kill"),
        Check("killed mid-transcode: exactly one run's files, nothing left of the killed run", ok,
              detail),
    ]  # fmt: skip


def _broker_down(ctx: Context, people: dict, data: bytes) -> list[Check]:
    tutor = videos.login(ctx.stack, people["tutor"])
    ctx.stack.redis.stop()
    try:
        began = time.monotonic()
        reply = videos.upload(ctx.stack, tutor, data)  # the topic has the first clip already
        took = time.monotonic() - began
    finally:
        ctx.stack.redis.start()
    accepted = reply.status == 201 and reply.json().get("status") == "processing"
    if not accepted:
        return [Check("broker down: the upload is accepted (201 processing)", False, reply.summary)]
    video_id = reply.json()["id"]
    # beat (running, every VIDEO_REQUEUE_EVERY_SECONDS) queues it again once it has waited
    # VIDEO_REQUEUE_AFTER_SECONDS (both short in this run).
    video = videos.wait_processed(ctx.stack, tutor, video_id, timeout=120)
    requeued = ctx.stack.worker_log().count("videos.tasks.videos_requeue[")
    ok, detail = _one_runs_files(ctx, videos.stream_key(ctx.stack, video_id))
    return [
        Check("broker down: the upload is accepted (201 processing)", accepted,
              f"in {took:.2f} s"),
        Check("broker back: beat's requeue queues it and the worker makes it ready",
              requeued > 0 and video.get("status") == "ready",
              f"{requeued} requeue runs on the worker, {video.get('status')}"),
        Check("broker back: processed once (one run's files)", ok, detail),
    ]  # fmt: skip


def _store_down(ctx: Context, people: dict, data: bytes) -> list[Check]:
    from videos.models import Video

    tutor = videos.login(ctx.stack, people["tutor"])
    learner = videos.login(ctx.stack, people["learner"])
    ready = Video.objects.get(topic_id=people["topic"], status="ready")
    rows_before = Video.objects.count()
    ctx.stack.object_store.stop()
    try:
        began = time.monotonic()
        reply = videos.upload(ctx.stack, tutor, data)
        took = time.monotonic() - began
        rows_after = Video.objects.count()
        playback = ctx.stack.request(
            "GET", f"/api/videos/{ready.pk}/playback/", headers=videos.bearer(learner)
        )
        segment = None
        if playback.status == 200:
            segment = ctx.stack.request("GET", urlsplit(playback.json()["hls"]).path)
    finally:
        ctx.stack.object_store.start()
    again = videos.upload(ctx.stack, tutor, data)
    return [
        Check("store down: an upload is 503 storage_unavailable, quickly",
              (reply.status, reply.code) == (503, "storage_unavailable")
              and took < STORE_DOWN_BOUND,
              f"{reply.summary} in {took:.2f} s"),
        Check("store down: nothing written (no video row)", rows_after == rows_before,
              f"{rows_before} rows before, {rows_after} after"),
        Check("store down: playback URLs are still issued, and the stream answers 503",
              playback.status == 200 and segment is not None and segment.status == 503,
              f"playback {playback.status}, master playlist "
              f"{segment.summary if segment is not None else 'not asked'}"),
        Check("store back: uploads work again", again.status == 201, again.summary),
    ]  # fmt: skip


def run(ctx: Context) -> list[Check]:
    folder = ctx.stack.run_dir / "videos"
    folder.mkdir(exist_ok=True)
    ctx.stack.worker_start()
    ctx.stack.beat_start()
    try:
        people = videos.course_with_video_topic(ctx.stack, "faults")
        short = videos.clip(folder / "short.mp4").read_bytes()
        print("\n== 5. Video processing: worker killed mid-transcode, broker down, store down")
        checks = _killed_mid_transcode(ctx, people, folder)
        checks += _broker_down(ctx, people, short)
        checks += _store_down(ctx, people, short)
    finally:
        stop({name: ctx.stack.processes.pop(name) for name in ("beat", "worker")})
    return checks

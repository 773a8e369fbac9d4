"""Video: transcoding speed, upload answers against processing, signed HLS segments vs static.

Also the object store against local disk through Django's storage API. Transcoding runs
videos.transcoding in this process (ffmpeg only, no server). The rest runs on two stacks with a
Celery worker: uploads on disk (nginx reads signed streams from /stream-disk/), then uploads on
SeaweedFS (/stream-store/), where Django in this process also times its storages.
"""

import contextlib
import http.client
import math
import os
import random
import re
import statistics
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin, urlsplit

from bench import harness, load
from bench.harness import figure
from bench.load import Target
from bench.video_transcoding import SEGMENT_SECONDS, transcoding_speed
from tools import clients, cpu, fixtures, videos
from tools.procs import script_main
from tools.stack import stack

MB = 1_000_000
UPLOAD_SIZE = "1280x720"  # ~0.8 MB per second of tools.videos.clip: 14 s is ~11 MB
SEGMENT_BYTES = MB  # the segment loaded: the stream's first segment nearest this size
RANGE_BYTES = 1024 * 1024
DISK_READ = "disk seek+read"
TARGET_SEGMENT_RATIO = 0.9
TARGET_ANSWER_SHARE = 0.25
# Celery's own account of each task (the worker logs at INFO); the task id is Video.processed_by.
TASK_DONE = re.compile(r"video_process\[([0-9a-f-]+)\] succeeded in ([0-9.]+)s")


# --- The stacks ---------------------------------------------------------------------------------


def _get(running, path: str) -> bytes:
    reply = running.request("GET", path)
    if reply.status != 200:
        raise RuntimeError(f"GET {path}: {reply.summary}")
    return reply.body


def _uris(playlist: bytes) -> list[str]:
    return [line for line in playlist.decode().splitlines() if line and not line.startswith("#")]


def _segment(running, learner: str, video_id: int) -> tuple[str, bytes]:
    """The signed path of the stream's first segment (of any rendition) nearest SEGMENT_BYTES,
    found as a player finds it (playback URLs, master, variant playlist), and its bytes."""
    path = f"/api/videos/{video_id}/playback/"
    reply = running.request("GET", path, headers=videos.bearer(learner))
    if reply.status != 200:
        raise RuntimeError(f"GET {path}: {reply.summary}")
    master = urlsplit(reply.json()["hls"]).path
    found = []
    for variant in _uris(_get(running, master)):
        playlist = urljoin(master, variant)
        segment = urljoin(playlist, _uris(_get(running, playlist))[0])
        found.append((segment, _get(running, segment)))
    return min(found, key=lambda item: abs(len(item[1]) - SEGMENT_BYTES))


def _static_copy(running, segment: str, body: bytes) -> str:
    """The same bytes under STATIC_ROOT; checks both paths answer them and that nginx refuses a
    tampered signature (the signed path is really checked)."""
    name = "-".join(segment.split("/")[-2:])
    (running.run_dir / "static" / name).write_bytes(body)
    static = f"/static/{name}"
    if _get(running, static) != body:
        raise RuntimeError(f"{static} does not answer the segment's bytes")
    parts = segment.split("/")  # "", "hls", user, expires, token, stream, rendition, file
    parts[4] = ("A" if parts[4][0] != "A" else "B") + parts[4][1:]
    if (status := running.request("GET", "/".join(parts)).status) != 403:
        raise RuntimeError(f"a tampered signature got {status}, not 403")
    return static


def _segment_load(pool, running, plan, where: str, segment: str, body: bytes) -> list[Target]:
    static = _static_copy(running, segment, body)
    https = {"port": running.https_port, "cafile": str(running.certificate)}
    same = {"ok_statuses": (200,), "expect": {"Content-Length": str(len(body))}, **https}
    targets = [Target(f"signed ({where})", segment, {}, **same),
               Target(f"static ({where} run)", static, {}, **same)]  # fmt: skip
    sampled = SimpleNamespace(postgres=running.postgres, redis=running.redis,
                              processes=dict(running.processes), gunicorn_ports=[])  # fmt: skip
    if running.object_store:
        sampled.processes["weed"] = running.object_store.process
    print(f"loading {segment.split('/', 6)[-1]} ({len(body) / MB:.2f} MB) signed and as {static}")
    load.measure(pool, sampled, targets, plan)
    return targets


def _segment_rows(where: str, targets: list[Target], judged: bool) -> list[dict]:
    signed, static = targets
    groups = ("nginx", "weed", "clients") if where == "store" else ("nginx", "clients")
    # load.print_targets' CPU column is gunicorn's, which serves none of these.
    print(f"{'target':<22}{'responses':>10}{'req/s':>8}{'MB/s':>7}{'p50 ms':>8}{'p99 ms':>8}"
          f"{'errors':>7}")  # fmt: skip
    for t in targets:
        p50, p99 = t.percentile_ms(50), t.percentile_ms(99)
        print(f"{t.label:<22}{t.responses:>10}{t.rps:>8.0f}{t.mb_per_second:>7.0f}"
              f"{p50:>8.1f}{p99:>8.1f}{t.all_errors:>7}")  # fmt: skip
    cpu.print_table([(t.label, t.cpu, t.responses) for t in targets], groups,
                    "nginx: master and worker; clients: the load generator (TLS)")  # fmt: skip
    errors = signed.all_errors + static.all_errors
    valid = errors == 0 and signed.responses > 0 and static.responses > 0
    ratio = signed.rps / static.rps if static.rps else 0.0
    target = f">= {TARGET_SEGMENT_RATIO}" if judged else None
    # What each response costs the host's processes and interrupts: other work on the host moves
    # it much less than req/s, and on a CPU-bound host the req/s ratio tends to its quotient.
    own = [sum(max(0.0, t.cpu_ms(name)) for name in (*groups, "irq")) for t in targets]
    return [
        figure(f"video: signed HLS segment, stream on {where}: req/s, MB/s",
               f"{signed.rps:.0f}, {signed.mb_per_second:.0f}"),
        figure(f"video: same bytes as /static/ ({where} run): req/s, MB/s",
               f"{static.rps:.0f}, {static.mb_per_second:.0f}"),
        figure(f"video: signed / static ({where})", f"{ratio:.2f}", target,
               ratio >= TARGET_SEGMENT_RATIO, valid),
        figure(f"video: CPU ms per response, signed / static ({where})",
               f"{own[0]:.2f} / {own[1]:.2f} (static / signed {own[1] / own[0]:.2f})"),
        figure(f"video: segment loads ({where}): errors", errors, "0", errors == 0),
    ]  # fmt: skip


def _course(running, prefix: str) -> tuple[int, str, str]:
    people = videos.course_with_video_topic(running, prefix)
    tutor, learner = (videos.login(running, people[who]) for who in ("tutor", "learner"))
    return people["topic"], tutor, learner


def _ready(running, token: str, video_id: int, timeout: float) -> None:
    video = videos.wait_processed(running, token, video_id, timeout=timeout)
    if video.get("status") != "ready":
        raise RuntimeError(f"video {video_id}: {video}\n{running.worker_log()[-3000:]}")


def on_disk(pool, args, plan, data: bytes) -> list[dict]:
    """`data`: a clip of one segment's length (the load needs one segment)."""
    with stack(instances=1, workers=args.workers, celery_worker=True) as running:
        topic, tutor, learner = _course(running, "bv-disk")
        reply = videos.upload(running, tutor, data, topic=topic)
        if reply.status != 201:
            raise RuntimeError(f"upload: {reply.summary} {reply.text}")
        video_id = reply.json()["id"]
        _ready(running, tutor, video_id, timeout=300)
        targets = _segment_load(pool, running, plan, "disk", *_segment(running, learner, video_id))
    return _segment_rows("disk", targets, judged=True)


@fixtures.closing
def _processed(ids: list[int]) -> dict[int, tuple[float, str]]:
    """When each (ready) video was processed, and by which task."""
    from videos.models import Video

    rows = Video.objects.filter(pk__in=ids, processed_at__isnull=False)
    done = rows.values_list("pk", "processed_at", "processed_by")
    return {pk: (at.timestamp(), task) for pk, at, task in done if at is not None}


def uploads(running, args, data: bytes, topic: int, tutor: str) -> tuple[list[dict], int]:
    """The tutor's uploads one after another, through nginx; then until each is ready."""
    sent = []
    for i in range(args.uploads):
        started, began = time.time(), time.perf_counter()
        reply = videos.upload(running, tutor, data, topic=topic if i == 0 else None)
        sent.append((reply, started, time.perf_counter() - began))
    good = [(r.json()["id"], started, took) for r, started, took in sent
            if r.status == 201 and (r.data or {}).get("status") == "processing"]  # fmt: skip
    if not good:
        raise RuntimeError(f"no upload was answered 201 processing: {sent[0][0].summary}")
    for video_id, *_ in good:
        _ready(running, tutor, video_id, timeout=120 + 60 * args.uploads)
    processed = _processed([video_id for video_id, *_ in good])
    tasks = dict(TASK_DONE.findall(running.worker_log()))
    answers = [took for _, _, took in good]
    until_ready = [processed[v][0] - started for v, started, _ in good]
    worked = [float(tasks[processed[v][1]]) for v, *_ in good if processed[v][1] in tasks]
    if len(worked) != len(good):
        raise RuntimeError("the worker's log lacks some tasks' times")
    answer_p50, worked_p50 = statistics.median(answers), statistics.median(worked)
    print(f"{len(sent)} uploads of {len(data) / MB:.1f} MB ({args.upload_seconds:g} s of "
          f"{UPLOAD_SIZE}), one after another; the worker: 2 processes")  # fmt: skip
    print("  answer s:       " + " ".join(f"{s:.2f}" for s in answers))
    print("  until ready s:  " + " ".join(f"{s:.1f}" for s in until_ready))
    print("  worker task s:  " + " ".join(f"{s:.1f}" for s in worked))
    share = answer_p50 / worked_p50
    all_201 = len(good) == len(sent)
    return [
        figure("video: upload answers 201 processing", f"{len(good)} of {len(sent)}",
               f"{len(sent)} of {len(sent)}", all_201),
        figure("video: upload answer p50 / max", f"{answer_p50:.2f} / {max(answers):.2f} s"),
        figure("video: until ready p50 / max (from the upload's start, queue included)",
               f"{statistics.median(until_ready):.1f} / {max(until_ready):.1f} s"),
        figure("video: worker's processing per video p50 / max",
               f"{worked_p50:.1f} / {max(worked):.1f} s"),
        figure("video: answer p50 / processing p50", f"{share:.0%}",
               f"< {TARGET_ANSWER_SHARE:.0%}", share < TARGET_ANSWER_SHARE, all_201),
    ], good[0][0]  # fmt: skip


# --- Object store against disk, through Django's storage API ------------------------------------


def _readers(disk, s3, name: str, closing: contextlib.ExitStack) -> dict:
    """A ranged read of RANGE_BYTES at an offset, one way each; the bytes it got."""
    end = RANGE_BYTES - 1

    def disk_read(first: int) -> int:
        with disk.open(name) as handle:
            handle.seek(first)
            return len(handle.read(RANGE_BYTES))

    # S3File reads a whole object; its boto3 Object asks for a range.
    obj = closing.enter_context(s3.open(name)).obj

    def boto3_read(first: int) -> int:
        return len(obj.get(Range=f"bytes={first}-{first + end}")["Body"].read())

    # As nginx reads the store: a presigned URL, one keep-alive connection.
    url = urlsplit(s3.url(name))
    conn = closing.enter_context(contextlib.closing(http.client.HTTPConnection(url.netloc)))

    def presigned_read(first: int) -> int:
        conn.request("GET", f"{url.path}?{url.query}",
                     headers={"Range": f"bytes={first}-{first + end}"})  # fmt: skip
        response = conn.getresponse()
        body = response.read()
        return len(body) if response.status == 206 else -response.status

    return {DISK_READ: disk_read, "S3 boto3 Range": boto3_read,
            "S3 presigned Range": presigned_read}  # fmt: skip


def _alternating(readers: dict, size: int, seconds: float, slice_seconds: float) -> dict:
    """Reads/s of each reader, in alternating slices (A B C, C B A, ...)."""
    rng, done = random.Random(), {label: [0, 0.0] for label in readers}
    slices = max(1, math.ceil(seconds / slice_seconds))
    for read in readers.values():  # warm-up: connections, boto3's first call
        for _ in range(3):
            read(rng.randrange(size - RANGE_BYTES + 1))
    for i in range(slices):
        for label in readers if i % 2 == 0 else reversed(readers):
            began = time.perf_counter()
            while time.perf_counter() - began < seconds / slices:
                if (got := readers[label](rng.randrange(size - RANGE_BYTES + 1))) != RANGE_BYTES:
                    raise RuntimeError(f"{label}: {got} bytes instead of {RANGE_BYTES}")
                done[label][0] += 1
            done[label][1] += time.perf_counter() - began
    return {label: reads / elapsed for label, (reads, elapsed) in done.items()}


def storages(running, args) -> list[dict]:
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage
    from storages.backends.s3 import S3Storage

    disk = FileSystemStorage(location=running.run_dir / "bench-disk")
    s3 = S3Storage(**running.object_store.storages()["protected"]["OPTIONS"])
    data, kinds = os.urandom(args.file_mb * MB), {"disk": disk, "S3": s3}
    saves: dict[str, list[float]] = {kind: [] for kind in kinds}
    for i in range(args.saves):
        for kind in list(kinds) if i % 2 == 0 else reversed(kinds):
            began = time.perf_counter()
            name = kinds[kind].save(f"bench/save-{i}.bin", ContentFile(data))
            saves[kind].append(time.perf_counter() - began)
            kinds[kind].delete(name)
    speed = {kind: args.file_mb / statistics.median(times) for kind, times in saves.items()}
    for storage in kinds.values():
        storage.save("bench/ranges.bin", ContentFile(data))
    with contextlib.ExitStack() as closing:
        readers = _readers(disk, s3, "bench/ranges.bin", closing)
        rates = _alternating(readers, len(data), args.read_seconds, args.slice)
    print(f"storage API in this process: {args.saves} saves of {args.file_mb} MB each way "
          f"(median), random 1 MiB ranges for {args.read_seconds:g} s each way")  # fmt: skip
    disk_rate, saved = rates[DISK_READ], speed["S3"] / speed["disk"]
    rows = [
        figure(f"video: save {args.file_mb} MB, disk / S3 (SeaweedFS), MB/s",
               f"{speed['disk']:.0f} / {speed['S3']:.0f} (S3 / disk {saved:.2f})"),
    ]  # fmt: skip
    for label, rate in rates.items():
        ratio = "" if label == DISK_READ else f" (/ disk {rate / disk_rate:.3f})"
        rows.append(figure(f"video: random 1 MiB ranged reads/s, {label}", f"{rate:.0f}{ratio}"))
    return rows


def on_store(pool, args, plan, data: bytes) -> list[dict]:
    # The upload path is measured, not the per-user limit (30 an hour).
    with stack(instances=1, workers=args.workers, object_store=True, celery_worker=True,
               THROTTLE_VIDEO_UPLOAD="1000/hour") as running:  # fmt: skip
        fixtures.django_setup(running.env)
        topic, tutor, learner = _course(running, "bv-store")
        rows, first = uploads(running, args, data, topic, tutor)
        targets = _segment_load(pool, running, plan, "store", *_segment(running, learner, first))
        rows += _segment_rows("store", targets, judged=False)
        rows += storages(running, args)
    return rows


def _defaults(parser, **values) -> None:
    """The load options' defaults for this script, in their help too."""
    parser.set_defaults(**values)
    for action in parser._actions:
        if action.dest in values:
            action.help = re.sub(r"\(.*\)", f"({values[action.dest]:g})", action.help or "")


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0])
    _defaults(parser, duration=6.0, warmup=1.0, slice=1.5)
    parser.add_argument("--clip-seconds", type=float, default=20, help="transcoded clips (20)")
    parser.add_argument("--uploads", type=int, default=8, help="clips uploaded (8)")
    parser.add_argument("--upload-seconds", type=float, default=14,
                        help=f"length of the uploaded {UPLOAD_SIZE} clip (14)")  # fmt: skip
    parser.add_argument("--file-mb", type=int, default=20, help="file saved and read (20)")
    parser.add_argument("--saves", type=int, default=5, help="saves each way (5)")
    parser.add_argument("--read-seconds", type=float, default=2, help="ranged reads, each way (2)")
    positive = ("clip_seconds", "uploads", "upload_seconds", "file_mb", "saves", "read_seconds")
    args = harness.parse_args(parser, positive)
    plan = load.Plan.from_args(args)
    began = time.monotonic()
    rows = transcoding_speed(args)
    print(f"(transcoding: {time.monotonic() - began:.0f} s)")
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        clips = [
            videos.clip(
                Path(tmp) / f"{seconds}.mp4", seconds=seconds, size=UPLOAD_SIZE
            ).read_bytes()
            for seconds in (SEGMENT_SECONDS, args.upload_seconds)
        ]
    print(f"segment loads: {plan.concurrency} client processes over HTTPS (keep-alive), "
          f"{plan.duration:g} s per URL in {plan.slices} alternating slices after "
          f"{plan.warmup:g} s warm-up each")  # fmt: skip
    with clients.pool(args.concurrency) as pool:
        for phase, data in zip((on_disk, on_store), clips, strict=True):
            began = time.monotonic()
            rows += phase(pool, args, plan, data)
            print(f"({phase.__name__}: {time.monotonic() - began:.0f} s, stack included)")
    harness.report(args, rows)
    return 0 if all(row.get("verdict", "PASS") == "PASS" for row in rows) else 1


if __name__ == "__main__":
    script_main(main)

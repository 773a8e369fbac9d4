"""MB/s of a 50 MB video through Django's own range streaming against a plain file read, and
requests/s of the watch-events endpoint.

gunicorn without X-Accel-Redirect, so Django streams the bytes: whole and in random 1 MiB ranges,
every response's headers and byte count checked; then progress heartbeats of enrolled learners.
"""

import json
import os
import time
from pathlib import Path

from bench import harness, load, servers
from bench.harness import figure
from bench.load import BASE_HEADERS, CHUNK, JSON_HEADERS, Target
from tools import clients, fixtures
from tools.clients import Client
from tools.procs import ROOT, script_main

TINY_MP4 = ROOT / "videos" / "tests" / "fixtures" / "tiny.mp4"
FILE_NAME = "videos/bench/stream.mp4"
DURATION, RANGE_BYTES = 600.0, 1024 * 1024


def heartbeat(n: int, duration: float = DURATION, step: float = 2.0) -> dict:
    """The n-th progress heartbeat of one learner: the playhead advances by `step` seconds and
    reports the span just played (wrapping round before the end of the video)."""
    position = step * (1 + n % int((duration - 2 * step) // step))
    return {"event_type": "progress", "position": position, "from": position - step, "to": position}


@fixtures.closing
def prepare(*, size: int, learners: int) -> tuple[int, Path, list[str]]:
    """A `size` file (tiny.mp4's bytes, then random ones: the stream view never re-probes) and
    its Video row in a video topic of a published course, learners enrolled through
    enrollment_grant with a token each; the video's id, its path and the tokens."""
    from django.conf import settings
    from django.db import transaction

    from accounts.models import Role
    from courses.models import Course, Lecture, Topic, TopicType
    from courses.services.enrollments import enrollment_grant
    from videos.models import Video

    began = time.monotonic()
    path = Path(settings.PROTECTED_MEDIA_ROOT) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(TINY_MP4.read_bytes()[:size])
        while (left := size - handle.tell()) > 0:
            handle.write(os.urandom(min(left, 1024 * 1024)))
    tutor = fixtures.users("bench-stream-tutor", 1, role=Role.TUTOR)[0]
    people = fixtures.users("bench-stream-learner-", learners)
    with transaction.atomic():
        course = Course.objects.create(title="Bench stream", tutor=tutor, is_published=True)
        lecture = Lecture.objects.create(course=course, title="Bench lecture", position=1)
        topic = Topic.objects.create(
            lecture=lecture, title="Video", position=1, type=TopicType.VIDEO
        )
        video = Video.objects.create(owner=tutor, topic=topic, title="Bench stream video",
                                     file=FILE_NAME, content_type="video/mp4", size=size,
                                     duration=DURATION, status="ready")  # fmt: skip
        for user in people:
            enrollment_grant(user=user, course=course)
    tokens = fixtures.tokens(people, "bench/stream.py")
    print(
        f"prepared in {time.monotonic() - began:.1f} s: {size / 1e6:.0f} MB file, video "
        f"#{video.pk} in course #{course.pk}, {learners} enrolled learners with tokens"
    )
    return video.pk, path, tokens


def sanity_check(port: int, video_id: int, size: int, token: str) -> None:
    """Fail before loading if a URL would not measure what it claims to."""
    client, stream = Client(port), f"/api/videos/{video_id}/stream/"
    head = client.send("stream", "GET", stream, token=token, headers={"Range": "bytes=0-1023"})
    if head.status != 206 or head.body != TINY_MP4.read_bytes()[:1024]:
        raise RuntimeError(f"the first KiB of the stream is not the file's ({head.status})")
    answers = [
        client.send("stream", "GET", stream),
        client.send("stream", "GET", stream, token=token, headers={"Range": f"bytes={size}-"}),
        client.send("event", "POST", f"/api/videos/{video_id}/events/", body=heartbeat(0)),
    ]
    client.close()
    statuses = [answer.status for answer in answers]
    if statuses != [401, 416, 401] or answers[1].code != "range_not_satisfiable":
        raise RuntimeError(f"no token, a range beyond the end, an event without token: {answers}")


@fixtures.closing
def events_stored(video_id: int) -> int:
    from videos.models import WatchEvent

    return WatchEvent.objects.filter(video_id=video_id).count()


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50, help="file size in MB (50)")
    parser.add_argument("--learners", type=int, default=8, help="learners sending events (8)")
    parser.add_argument("--events", type=int, default=40_000, help="bound on events (40000)")
    parser.add_argument("--stream-clients", type=int, default=1, help="readers per mode (1)")
    args = harness.parse_args(parser, ("size_mb", "learners", "events", "stream_clients"))
    plan, size = load.Plan.from_args(args), args.size_mb * 1_000_000
    no_accel = {"VIDEO_ACCEL_REDIRECT_PREFIX": "", "PROTECTED_ACCEL_REDIRECT_PREFIX": ""}
    with servers.served(args, **no_accel) as running:
        video_id, path, tokens = prepare(size=size, learners=args.learners)
        servers.tokens_outlive(5 * (plan.warmup + plan.duration + plan.rounds))
        sanity_check(running.gunicorn_ports[0], video_id, size, tokens[0])
        harness.print_setup(args, plan)
        print(f"byte modes: {args.stream_clients} reader(s) each, {CHUNK // 1024} KiB chunks")
        stream = f"/api/videos/{video_id}/stream/"
        auth = {**BASE_HEADERS, "Authorization": f"Bearer {tokens[0]}"}
        ranges, readers = (size, RANGE_BYTES), args.stream_clients
        modes = [
            Target("plain file", "", {}, file=str(path), clients=readers),
            Target("stream full", stream, auth, ok_statuses=(200,), clients=readers,
                   expect={"Content-Length": str(size)}),
            Target("plain 1 MiB reads", "", {}, file=str(path), ranges=ranges, clients=readers),
            Target("stream 1 MiB ranges", stream, auth, ok_statuses=(206,), ranges=ranges,
                   clients=readers),
        ]  # fmt: skip
        beats = [
            (
                {"Authorization": f"Bearer {tokens[j % len(tokens)]}"},
                json.dumps(heartbeat(j // len(tokens))).encode(),
            )
            for j in range(args.events)
        ]  # round robin over the learners: the progress row lock is spread
        events = Target("POST events", f"/api/videos/{video_id}/events/", JSON_HEADERS, "POST",
                        ok_statuses=(201,), supply=beats)  # fmt: skip
        with clients.pool(max(args.concurrency, readers)) as pool:
            load.measure(pool, running, modes, plan)
            load.measure(pool, running, [events], plan)
        stored = events_stored(video_id)

    load.print_targets([*modes, events])
    plain, full, plain_range, stream_range = modes
    answered = events.warmup_statuses[201] + events.statuses[201]
    errors = sum(t.all_errors for t in [*modes, events])
    valid = errors == 0 and all(t.responses for t in [*modes, events]) and stored == answered
    print(f"database check: events stored {stored}, 201 responses {answered}")
    full_ratio = full.mb_per_second / plain.mb_per_second if plain.mb_per_second else 0.0
    range_ratio = stream_range.mb_per_second / plain_range.mb_per_second if plain_range.bytes else 0
    harness.report(args, [
        figure("plain file read (256 KiB chunks), MB/s", f"{plain.mb_per_second:.0f}"),
        figure(f"GET stream, whole {args.size_mb} MB file, MB/s", f"{full.mb_per_second:.0f}"),
        figure("stream / plain file, whole file", f"{full_ratio:.2f}"),
        figure("stream 1 MiB ranges / plain 1 MiB reads, MB/s",
               f"{stream_range.mb_per_second:.0f} / {plain_range.mb_per_second:.0f} "
               f"= {range_ratio:.2f}"),
        figure("POST video events (heartbeats, 201s), req/s", f"{events.rate_of(201):.0f}"),
        figure("events p50 / p99 latency",
               f"{events.percentile_ms(50):.1f} / {events.percentile_ms(99):.1f} ms"),
        figure("stream: bad status/headers/bytes; events: non-201, unstored",
               "0" if valid else "some (see the output)", "0", valid),
    ])  # fmt: skip
    return 0 if valid else 1


if __name__ == "__main__":
    script_main(main)

"""MB/s of a 50 MB video through Django's own range streaming against a plain file read, and
requests/s of the watch-events endpoint with constant queries per event.

Serves the project with gunicorn (sync workers, production settings, no X-Accel-Redirect, so
Django streams the bytes) on a free loopback port. In alternating slices it reads the same file
from disk (plain) and fetches it through `GET /api/videos/{id}/stream/`, whole and in 1 MiB
ranges at random offsets, checking every response's status, headers and byte count; then loads
`POST /api/videos/{id}/events/` with progress heartbeats from several enrolled learners. Before
that it counts, in process, the SQL queries of one event after 1 and after 1,000 earlier events.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as `python bench/stream.py`: make the `bench` package importable.
    sys.path.insert(0, str(ROOT))

from bench import harness, load  # noqa: E402
from bench.harness import JSON_HEADERS, expect, http_call  # noqa: E402
from bench.load import Target  # noqa: E402
from bench.stream_bytes import CHUNK, measure_bytes  # noqa: E402
from bench.stream_fixture import (  # noqa: E402
    HISTORY_NAME,
    Fixture,
    django_prepare,
    events_path,
    heartbeat,
    stream_path,
)

HISTORY = 1000
TOKEN_MARGIN = 60.0


# --- Events -------------------------------------------------------------------------------------


def heartbeats(fixture: Fixture, count: int) -> list[tuple[dict, bytes]]:
    """Round robin over the learners; each one's playhead advances with its own heartbeats."""
    learners = len(fixture.tokens)
    return [
        (
            {"Authorization": f"Bearer {fixture.tokens[j % learners]}"},
            heartbeat(j // learners, fixture.duration),
        )
        for j in range(count)
    ]


def queries_per_event(fixture: Fixture) -> tuple[int, int, list[str]]:
    """SQL queries of one whole event request (in process) after 1 and after HISTORY events of
    the same learner on the same video; the SQL of the second, for the report."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connection, connections

    from bench.profile_me import call

    app = get_wsgi_application()
    path = events_path(fixture.video_id)
    headers = {"Authorization": f"Bearer {fixture.history_token}", **JSON_HEADERS}

    def post(n: int) -> list[str]:
        sql = []

        def record(execute, query, params, many, context):
            sql.append(query)
            return execute(query, params, many, context)

        with connection.execute_wrapper(record):
            status = call(app, path, headers, "POST", heartbeat(n, fixture.duration))
        if status != 201:
            raise RuntimeError(f"in-process event {n} returned {status}")
        return sql

    post(0)
    after_one = post(1)
    for n in range(2, HISTORY):
        post(n)
    after_many = post(HISTORY)
    connections.close_all()
    return len(after_one), len(after_many), after_many


def events_stored(fixture: Fixture, answered_201: int) -> tuple[bool, str]:
    from django.db import connections

    from videos.models import WatchEvent

    stored = (
        WatchEvent.objects.filter(video_id=fixture.video_id)
        .exclude(user__username=HISTORY_NAME)
        .count()
    )
    connections.close_all()
    return stored == answered_201, f"events stored {stored}, 201 responses {answered_201}"


# --- Checks, report, main -----------------------------------------------------------------------


def sanity_check(port: int, fixture: Fixture, auth: dict) -> None:
    """Fail before loading if a URL would not measure what it claims to."""
    stream = stream_path(fixture.video_id)
    expect(port, stream, 401)
    status, raw = http_call(port, "GET", stream, headers={**auth, "Range": "bytes=0-1023"})
    head = (harness.ROOT / "videos" / "tests" / "fixtures" / "tiny.mp4").read_bytes()[:1024]
    if status != 206 or raw != head:
        raise RuntimeError(f"the first KiB of the stream is not the file's ({status})")
    beyond = {**auth, "Range": f"bytes={fixture.size}-"}
    if expect(port, stream, 416, beyond)["error"]["code"] != "range_not_satisfiable":
        raise RuntimeError("a range beyond the file was not refused with range_not_satisfiable")
    body = heartbeat(0, fixture.duration)
    expect(port, events_path(fixture.video_id), 401, JSON_HEADERS, method="POST", body=body)


def figures(bytes_, events: Target, *, queries: tuple[int, int], valid: bool, stored_ok: bool):
    plain, full, plain_range, ranges = bytes_
    full_ratio = full.mb_per_second / plain.mb_per_second if plain.mb_per_second else 0.0
    range_ratio = ranges.mb_per_second / plain_range.mb_per_second if plain_range.bytes else 0.0
    one, many = queries
    return [
        {"figure": "plain file read (256 KiB chunks), MB/s", "value": f"{plain.mb_per_second:.0f}"},
        {"figure": "GET stream, whole 50 MB file, MB/s", "value": f"{full.mb_per_second:.0f}"},
        {"figure": "stream / plain file, whole file", "value": f"{full_ratio:.2f}"},
        {
            "figure": "stream 1 MiB ranges / plain 1 MiB reads, MB/s",
            "value": f"{ranges.mb_per_second:.0f} / {plain_range.mb_per_second:.0f} "
            f"= {range_ratio:.2f}",
        },
        {
            "figure": "POST video events (heartbeats, 201s), req/s",
            "value": f"{events.rate_of(201):.0f}",
        },
        {
            "figure": "events p50 / p99 latency",
            "value": f"{events.percentile_ms(50):.1f} / {events.percentile_ms(99):.1f} ms",
        },
        {
            "figure": f"SQL queries per event after 1 / {HISTORY} earlier events",
            "value": f"{one} / {many}",
            "target": "equal",
            "verdict": "PASS" if one == many else "FAIL",
        },
        {
            "figure": "stream: bad status/headers/bytes; events: non-201, unstored",
            "value": "0" if valid and stored_ok else "some (see the output)",
            "target": "0",
            "verdict": "PASS" if valid and stored_ok else "FAIL",
        },
    ]


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=50, help="file size in MB (50)")
    parser.add_argument("--learners", type=int, default=8, help="learners sending events (8)")
    parser.add_argument("--events", type=int, default=40_000, help="bound on events (40000)")
    parser.add_argument(
        "--stream-clients", type=int, default=1, help="concurrent readers per byte mode (1)"
    )
    args = harness.parse_args(parser, positive=("size_mb", "learners", "events", "stream_clients"))
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as media:
        env = {
            **harness.bench_env(database_url=args.database_url, redis_url=args.redis_url),
            "PROTECTED_MEDIA_ROOT": media,
            "VIDEO_ACCEL_REDIRECT_PREFIX": "",
            "PROTECTED_ACCEL_REDIRECT_PREFIX": "",
        }
        os.environ.update(env)
        return run(args, env, Path(media))


def run(args, env: dict, media: Path) -> int:
    harness.database_ensure(args.database_url)
    harness.redis_clear(args.redis_url)
    fixture = django_prepare(
        media_root=media, size=args.size_mb * 1_000_000, learners=args.learners
    )
    one, many, sql = queries_per_event(fixture)
    print(
        f"SQL queries of one event request, in process: after 1 event {one}, after {HISTORY} {many}"
    )
    for query in sql:
        print(f"  {query[:120]}")

    plan = load.Plan.from_args(args)
    planned = 5 * (plan.warmup + plan.duration + plan.rounds * 1.0)
    if time.time() + planned + TOKEN_MARGIN > fixture.tokens_expire_at:
        raise RuntimeError("the access tokens expire before the planned load ends")
    harness.print_setup(args, plan)
    print(f"byte modes: {args.stream_clients} reader(s) each, {CHUNK // 1024} KiB chunks")
    auth = {"Authorization": f"Bearer {fixture.tokens[0]}"}
    events = Target(
        "POST events",
        events_path(fixture.video_id),
        JSON_HEADERS,
        method="POST",
        ok_statuses=(201,),
        supply=heartbeats(fixture, args.events),
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        harness.gunicorn_server(env, args.workers, Path(tmp) / "gunicorn.log") as server,
    ):
        sanity_check(server.port, fixture, auth)
        with load.client_pool(max(args.concurrency, args.stream_clients)) as pool:
            byte_figures = measure_bytes(pool, server.port, fixture, auth, args)
            load.measure(pool, server, [events], plan)

    print(f"{'bytes':<22}{'responses':>10}{'MB/s':>9}{'problems':>10}")
    for figure in byte_figures:
        print(
            f"{figure.mode:<22}{figure.responses:>10}{figure.mb_per_second:>9.0f}"
            f"{sum(figure.problems.values()):>10}"
        )
        if figure.problems:
            print(f"    {dict(figure.problems)}")
    load.print_targets([events])
    errors = events.errors + events.errors_in(events.warmup_statuses, events.warmup_failures)
    errors += sum(sum(f.problems.values()) for f in byte_figures)
    valid = errors == 0 and all(f.responses for f in byte_figures) and events.responses > 0
    stored_ok, stored = events_stored(fixture, events.warmup_statuses[201] + events.statuses[201])
    print(f"database check: {stored}: {'PASS' if stored_ok else 'FAIL'}")
    rows = figures(byte_figures, events, queries=(one, many), valid=valid, stored_ok=stored_ok)
    for row in rows:
        print(
            f"{row['figure']}: {row['value']}"
            + (f" ({row['verdict']})" if "verdict" in row else "")
        )
    harness.write_figures(args.json_out, rows)
    return 0 if valid and stored_ok and one == many else 1


if __name__ == "__main__":
    harness.script_main(main)

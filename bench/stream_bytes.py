"""The byte half of stream.py: reading the video file plainly or through the stream URL.

Each mode runs in spawned client processes (no Django here) until a shared deadline; every
response's status, Content-Length, Content-Range and byte count is checked, and the plain reads
open, seek and read the file in the same chunks as `core.protected_files`.
"""

import http.client
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.harness import BASE_HEADERS
from bench.load import HOST, REQUEST_TIMEOUT, START_SLACK
from bench.stream_fixture import Fixture, stream_path

# The view's chunk size (core.protected_files.CHUNK_BYTES), used by the clients and the baseline.
CHUNK = 256 * 1024
RANGE_BYTES = 1024 * 1024
MB = 1e6
MODES = ("plain file", "stream full", "plain 1 MiB reads", "stream 1 MiB ranges")


@dataclass(frozen=True)
class ByteJob:
    """One client's reads during one slice: of the file itself, or through the stream URL."""

    mode: str
    port: int
    path: str
    headers: dict
    file: str
    size: int
    seed: int
    start_at: float
    seconds: float
    max_requests: int


def _check(response, job: ByteJob, first: int, last: int) -> str | None:
    """What is wrong with the response's status and headers for bytes first..last, if anything."""
    ranged = job.mode == "stream 1 MiB ranges"
    if response.status != (206 if ranged else 200):
        return f"status {response.status}"
    if response.getheader("Content-Length") != str(last - first + 1):
        return f"Content-Length {response.getheader('Content-Length')}"
    if ranged and response.getheader("Content-Range") != f"bytes {first}-{last}/{job.size}":
        return f"Content-Range {response.getheader('Content-Range')}"
    return None


def _fetch(conn, job: ByteJob, first: int, last: int) -> tuple[int, str | None]:
    headers = job.headers
    if job.mode == "stream 1 MiB ranges":
        headers = {**headers, "Range": f"bytes={first}-{last}"}
    conn.request("GET", job.path, headers=headers)
    response = conn.getresponse()
    problem = _check(response, job, first, last)
    got = 0
    while chunk := response.read(CHUNK):
        got += len(chunk)
    if problem is None and got != last - first + 1:
        problem = f"{got} bytes for {last - first + 1}"
    return got, problem


def _read(job: ByteJob, first: int, last: int) -> tuple[int, str | None]:
    """The baseline: open, seek and read in CHUNK pieces, as core.protected_files._read does."""
    got, remaining = 0, last - first + 1
    with open(job.file, "rb") as handle:
        handle.seek(first)
        while remaining > 0 and (chunk := handle.read(min(CHUNK, remaining))):
            got += len(chunk)
            remaining -= len(chunk)
    return got, None if got == last - first + 1 else f"{got} bytes for {last - first + 1}"


def _bytes_load(job: ByteJob) -> dict:
    while (pause := job.start_at - time.monotonic()) > 0:
        time.sleep(pause)
    deadline = job.start_at + job.seconds
    rng = random.Random(job.seed)
    conn = http.client.HTTPConnection(HOST, job.port, timeout=REQUEST_TIMEOUT)
    total, done, problems = 0, 0, Counter()
    while done < job.max_requests and time.monotonic() < deadline:
        first, last = 0, job.size - 1
        if "1 MiB" in job.mode:
            first = rng.randrange(0, job.size - RANGE_BYTES + 1)
            last = first + RANGE_BYTES - 1
        try:
            if job.mode.startswith("stream"):
                got, problem = _fetch(conn, job, first, last)
            else:
                got, problem = _read(job, first, last)
        except (OSError, http.client.HTTPException) as exc:
            got, problem = 0, type(exc).__name__
            conn.close()
        total += got
        done += 1
        if problem:
            problems[problem] += 1
    conn.close()
    return {
        "bytes": total,
        "responses": done,
        "problems": dict(problems),
        "ended": time.monotonic(),
    }


@dataclass
class ByteFigure:
    mode: str
    bytes: int = 0
    responses: int = 0
    elapsed: float = 0.0
    problems: Counter = field(default_factory=Counter)

    @property
    def mb_per_second(self) -> float:
        return self.bytes / MB / self.elapsed if self.elapsed else 0.0


def byte_slice(pool, jobs_for, figure: ByteFigure | None, seconds: float, clients: int) -> None:
    start_at = time.monotonic() + START_SLACK
    results = pool.map(_bytes_load, jobs_for(start_at, seconds, clients), chunksize=1)
    if figure is not None:
        for result in results:
            figure.bytes += result["bytes"]
            figure.responses += result["responses"]
            figure.problems.update(result["problems"])
        figure.elapsed += max(result["ended"] for result in results) - start_at


def measure_bytes(pool, port: int, fixture: Fixture, auth: dict, args) -> list[ByteFigure]:
    """Warm-up, then the four modes in alternating slices: A B C D, D C B A, ..."""
    seeds = iter(range(1, 1_000_000))

    def jobs(mode: str):
        def build(start_at: float, seconds: float, clients: int) -> list[ByteJob]:
            return [
                ByteJob(
                    mode=mode,
                    port=port,
                    path=stream_path(fixture.video_id),
                    headers={**BASE_HEADERS, **auth},
                    file=str(fixture.path),
                    size=fixture.size,
                    seed=next(seeds),
                    start_at=start_at,
                    seconds=seconds,
                    max_requests=args.max_requests,
                )
                for _ in range(clients)
            ]

        return build

    figures = [ByteFigure(mode) for mode in MODES]
    builders = [jobs(mode) for mode in MODES]
    if args.warmup > 0:
        for build in builders:
            byte_slice(pool, build, None, args.warmup, args.stream_clients)
    slices = max(1, round(args.duration / args.slice))
    pairs = list(zip(figures, builders, strict=True))
    for i in range(slices):
        for figure, build in pairs if i % 2 == 0 else reversed(pairs):
            byte_slice(pool, build, figure, args.duration / slices, args.stream_clients)
    return figures

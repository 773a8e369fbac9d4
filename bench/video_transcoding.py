"""Transcoding speed on this host, for bench.video: videos.transcoding as the worker runs it,
each ffmpeg step timed, and each rung of the largest source encoded alone (this process and
ffmpeg only, no server)."""

import contextlib
import math
import os
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from bench.harness import figure
from tools import videos

SOURCES = ("640x360", "1280x720", "1920x1080")
SEGMENT_SECONDS = 6  # VIDEO_SEGMENT_SECONDS' default


@dataclass(frozen=True)
class Timed:
    label: str
    media: float  # seconds of video
    wall: float
    cpu: float  # ffmpeg's, all threads: what other work on the host barely changes
    encode: float = math.nan  # of a whole transcode, its one HLS encoding step

    speed = property(lambda self: self.media / self.wall)
    line = property(lambda self: f"{self.speed:.1f}x ({self.wall:.1f} s for {self.media:.1f} s)")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def _stopwatch():
    took: dict[str, float] = {}
    cpu_before, began = _children_cpu(), time.perf_counter()
    yield took
    took["wall"], took["cpu"] = time.perf_counter() - began, _children_cpu() - cpu_before


def _transcode(label: str, source: Path, work: Path) -> Timed:
    """transcoding.transcode as the worker calls it, its ffmpeg runs timed one by one (the first
    is the HLS encoding of every rung; then the MP4 remux, a probe, the poster and the sprite)."""
    from videos import transcoding

    steps, run = [], transcoding._run

    def timed(command, **kwargs):
        began = time.perf_counter()
        try:
            return run(command, **kwargs)
        finally:
            steps.append(time.perf_counter() - began)

    info = transcoding.probe(source)
    with mock.patch.object(transcoding, "_run", timed), _stopwatch() as took:
        transcoding.transcode(
            source=source, out_dir=work, info=info, segment_seconds=SEGMENT_SECONDS
        )
    return Timed(label, info.duration, took["wall"], took["cpu"], steps[0])


def _hls_alone(label: str, source: Path, height: int | None, work: Path) -> Timed:
    """The HLS step for the one rung of `height` (None: decoding alone), with transcoding.py's
    own argument list, so the encoder settings are the worker's whatever they become."""
    from videos import transcoding

    info = transcoding.probe(source)
    transcoding._empty(work)
    if height is None:
        arguments = [*transcoding.SOURCE_INPUT, "-i", str(source), "-map", "0:V:0",
                     "-f", "null", "-"]  # fmt: skip
    else:
        rung = [r for r in transcoding.ladder(info.height) if r.height == height]
        arguments = transcoding._hls_arguments(
            source=source.resolve(), info=info, rungs=rung, seconds=SEGMENT_SECONDS
        )
    with _stopwatch() as took:
        transcoding._ffmpeg(arguments, cwd=work, deadline=None)
    return Timed(label, info.duration, took["wall"], took["cpu"])


def transcoding_speed(args) -> list[dict]:
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, check=True)
    print(f"CPUs: {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable); "
          f"{version.stdout.splitlines()[0]}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        folder, began = Path(tmp), time.monotonic()
        sources = {
            size: videos.clip(folder / f"{size}.mp4", seconds=args.clip_seconds, size=size)
            for size in SOURCES
        }
        print(f"{len(sources)} clips of {args.clip_seconds:g} s (tools.videos.clip) made in "
              f"{time.monotonic() - began:.1f} s")  # fmt: skip
        ladders = [
            _transcode(size.split("x")[1] + "p", path, folder / "out")
            for size, path in sources.items()
        ]
        top = sources[SOURCES[-1]]
        alone = [_hls_alone("decoding only", top, None, folder / "out")]
        alone += [_hls_alone(f"{h}p alone", top, h, folder / "out") for h in (360, 720, 1080)]
    print(f"{'source':<8}{'rungs':>6}{'transcode s':>13}{'x real time':>13}{'HLS step s':>12}"
          f"{'CPU s per media s':>19}")  # fmt: skip
    for rungs, t in enumerate(ladders, 1):
        print(f"{t.label:<8}{rungs:>6}{t.wall:>13.1f}{t.speed:>13.1f}{t.encode:>12.1f}"
              f"{t.cpu / t.media:>19.2f}")  # fmt: skip
    print(f"the {ladders[-1].label} source's HLS step, one rung per ffmpeg run (same arguments):")
    for t in alone:
        print(f"  {t.label:<14}{t.wall:>7.1f} s {t.speed:>6.1f}x   CPU s per media s "
              f"{t.cpu / t.media:.2f}")  # fmt: skip
    separate = sum(t.wall for t in alone[1:])
    print(f"  the three rungs in separate runs {separate:.1f} s; in one run, one decoding "
          f"shared: {ladders[-1].encode:.1f} s")  # fmt: skip
    rows = [figure("video: CPUs of this host", os.cpu_count())]
    for rungs, t in enumerate(ladders, 1):
        rows.append(figure(f"video: transcode a {t.label} source ({rungs} rung"
                           f"{'s' if rungs > 1 else ''}), x real time",
                           f"{t.line}, CPU {t.cpu / t.media:.2f} s per media s"))  # fmt: skip
    for t in alone:
        rows.append(figure(f"video: {ladders[-1].label} source, {t.label} (HLS step)", t.line))
    return rows

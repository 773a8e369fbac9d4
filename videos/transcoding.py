"""Turn an uploaded video into HLS renditions, a progressive MP4, a poster and seek thumbnails.

Local files only: the caller downloads the source and uploads the produced folder afterwards.
"""

import itertools
import json
import math
import re
import shutil
import subprocess  # nosec B404
import time
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from videos import thumbnails

MASTER = "master.m3u8"
FALLBACK = "fallback.mp4"
POSTER = "poster.jpg"
FALLBACK_MAX_HEIGHT = 720
POSTER_MAX_WIDTH = 1280
POSTER_AT = 0.1  # share of the duration: past a fade-in or a title card
PROBE_TIMEOUT_SECONDS = 60.0
STDERR_TAIL_CHARS = 2000
# A source is read only by these demuxers (mov also reads MP4) and only from a local file: an
# upload that is really an HLS playlist or an ffconcat script would otherwise make ffmpeg read
# other files on this machine (or URLs) and paint them into the video a learner sees.
SOURCE_INPUT = ("-protocol_whitelist", "file", "-format_whitelist", "mov,matroska")

UNDECODABLE = "The file could not be decoded."
NO_VIDEO = "The file has no video stream."
NO_DURATION = "The video has no duration."
NOT_TRANSCODED = "The video could not be transcoded."


class SourceUnusable(Exception):
    """The upload cannot become a video. `reason` is shown to the tutor, so it never names a
    path or repeats ffmpeg's words; `stderr_tail` is ffmpeg's own account, for the logs."""

    def __init__(self, reason: str, *, stderr_tail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.stderr_tail = stderr_tail


class TranscodeTimeout(Exception):
    """ffmpeg or ffprobe ran out of time (and was killed): the caller decides about retrying."""


@dataclass(frozen=True)
class SourceInfo:
    duration: float  # seconds, finite and > 0
    width: int  # as displayed: rotation metadata applied, as ffmpeg applies it when encoding
    height: int
    has_audio: bool
    video_codec: str  # ffprobe's codec name: h264, hevc, vp9, ...


@dataclass(frozen=True)
class Rendition:
    name: str  # also its folder in the output
    height: int
    video_kbps: int
    max_kbps: int
    buffer_kbits: int
    audio_kbps: int


@dataclass(frozen=True)
class RenditionOutput:
    name: str
    width: int
    height: int
    bandwidth: int  # bit/s, as the master playlist declares it


@dataclass(frozen=True)
class TranscodeResult:
    duration: float  # of the produced fallback MP4
    renditions: tuple[RenditionOutput, ...]  # lowest first, as in the master playlist
    files: tuple[str, ...]  # every file produced, relative to out_dir, sorted
    master: str = MASTER
    fallback: str = FALLBACK
    poster: str = POSTER
    thumbnails_vtt: str = thumbnails.VTT
    thumbnails_sprite: str = thumbnails.SPRITE


# Peak rate 1.07x and buffer 1.5x the average video bitrate: Apple's HLS authoring figures.
LADDER = (
    # name, height, video kbit/s, peak kbit/s, buffer kbit, audio kbit/s
    Rendition("360p", 360, 800, 856, 1200, 96),
    Rendition("720p", 720, 2800, 2996, 4200, 128),
    Rendition("1080p", 1080, 5000, 5350, 7500, 128),
)


def probe(path: Path, *, timeout: float = PROBE_TIMEOUT_SECONDS) -> SourceInfo:
    return _probe(path, deadline=time.monotonic() + timeout)


def ladder(source_height: int) -> list[Rendition]:
    """Never upscale; a source below the lowest rung gets one rung at its own (even) height.
    For a portrait source, pass its width: a rung names the shorter side."""
    rungs = [rung for rung in LADDER if rung.height <= source_height]
    if rungs:
        return rungs
    height = max(2, source_height - source_height % 2)  # libx264 with yuv420p needs even sizes
    return [replace(LADDER[0], name=f"{height}p", height=height)]


def transcode(
    *,
    source: Path,
    out_dir: Path,
    info: SourceInfo,
    segment_seconds: int = 6,
    timeout: float | None = None,
) -> TranscodeResult:
    """Everything a player needs, in out_dir, which is emptied first so a retry leaves exactly
    the files of one run. `timeout` bounds the whole run, every ffmpeg call together."""
    source, out_dir = source.resolve(), out_dir.resolve()
    if source.is_relative_to(out_dir):
        raise ValueError("the source must not lie inside out_dir, which is emptied")
    deadline = None if timeout is None else time.monotonic() + timeout
    _empty(out_dir)
    hls = _hls_arguments(
        source=source,
        info=info,
        rungs=ladder(min(info.width, info.height)),
        seconds=segment_seconds,
    )
    _ffmpeg(hls, cwd=out_dir, deadline=deadline)
    renditions = _master_renditions((out_dir / MASTER).read_text())

    # Copying the segments into an MP4 costs no encoding; the mov muxer converts the ADTS AAC of
    # MPEG-TS by itself (it inserts aac_adtstoasc since ffmpeg 4).
    fallback = [rendition for rendition in renditions if rendition.height <= FALLBACK_MAX_HEIGHT]
    remux = ["-i", f"{fallback[-1].name}/index.m3u8", "-c", "copy", "-movflags", "+faststart"]
    _ffmpeg([*remux, FALLBACK], cwd=out_dir, deadline=deadline)
    duration = _probe(out_dir / FALLBACK, deadline=deadline).duration

    scale = f"scale=w=min({POSTER_MAX_WIDTH}\\,iw):h=-2"
    poster = ["-ss", f"{duration * POSTER_AT:.3f}", "-i", FALLBACK, "-frames:v", "1", "-vf", scale]
    _ffmpeg([*poster, "-q:v", "3", POSTER], cwd=out_dir, deadline=deadline)

    # The lowest rendition is the cheapest to decode in full, and sharp enough for 160 px tiles.
    lowest = renditions[0]
    plan = thumbnails.sprite_plan(duration=duration, width=lowest.width, height=lowest.height)
    sprite = ["-i", f"{lowest.name}/index.m3u8", "-an", "-vf", thumbnails.sprite_filter(plan)]
    sprite += ["-frames:v", "1", "-q:v", "5", thumbnails.SPRITE]
    _ffmpeg(sprite, cwd=out_dir, deadline=deadline)
    (out_dir / thumbnails.VTT).write_text(thumbnails.vtt(plan, duration=duration))

    for made in (POSTER, thumbnails.SPRITE):
        if not (out_dir / made).is_file():  # ffmpeg exits 0 when it finds no frame to write
            raise SourceUnusable(NOT_TRANSCODED, stderr_tail=f"ffmpeg wrote no {made}")
    files = (path.relative_to(out_dir).as_posix() for path in out_dir.rglob("*") if path.is_file())
    return TranscodeResult(duration=duration, renditions=renditions, files=tuple(sorted(files)))


def _hls_arguments(
    *, source: Path, info: SourceInfo, rungs: list[Rendition], seconds: int
) -> list[str]:
    """One decode feeding every rung (split, then scale), muxed by one HLS muxer, so the master
    playlist carries each variant's BANDWIDTH, RESOLUTION and CODECS. Keyframes are forced at
    every segment boundary, so segments of all rungs start at the same instants."""
    # V (capital) skips cover art; -2 keeps the aspect ratio with an even other side. A rung
    # sizes the shorter side: a phone's portrait 1080x1920 gets 360x640, not 202x360.
    graph = [f"[0:V:0]split={len(rungs)}" + "".join(f"[s{i}]" for i in range(len(rungs)))]
    portrait = info.height > info.width
    size = "{}:-2" if portrait else "-2:{}"
    graph += [f"[s{i}]scale={size.format(rung.height)}[v{i}]" for i, rung in enumerate(rungs)]
    arguments = [*SOURCE_INPUT, "-i", str(source), "-filter_complex", ";".join(graph)]
    variants = []
    for i, rung in enumerate(rungs):
        arguments += ["-map", f"[v{i}]", f"-b:v:{i}", f"{rung.video_kbps}k"]
        arguments += [f"-maxrate:v:{i}", f"{rung.max_kbps}k"]
        arguments += [f"-bufsize:v:{i}", f"{rung.buffer_kbits}k"]
        variant = f"v:{i}"
        if info.has_audio:
            # Each variant gets its own copy of the audio: var_stream_map puts every output
            # stream in exactly one variant.
            arguments += ["-map", "0:a:0", f"-b:a:{i}", f"{rung.audio_kbps}k"]
            variant += f",a:{i}"
        variants.append(f"{variant},name:{rung.name}")
    return [
        *arguments,
        # A phone's recording carries where it was made; learners need not know.
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-force_key_frames", f"expr:gte(t,n_forced*{seconds})",
        "-c:a", "aac", "-ac", "2",
        "-threads", "0",
        "-f", "hls", "-hls_time", str(seconds), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments", "-hls_segment_type", "mpegts",
        "-hls_segment_filename", "%v/seg_%05d.ts",
        "-master_pl_name", MASTER, "-var_stream_map", " ".join(variants), "%v/index.m3u8",
    ]  # fmt: skip


def _probe(path: Path, *, deadline: float | None) -> SourceInfo:
    command = [
        _binary("ffprobe"), "-v", "error", *SOURCE_INPUT,
        "-print_format", "json", "-show_format", "-show_streams", str(path.resolve()),
    ]  # fmt: skip
    completed = _run(command, deadline=deadline, reason=UNDECODABLE)
    try:
        data = json.loads(completed.stdout)
    except ValueError:
        raise SourceUnusable(UNDECODABLE) from None
    streams = data.get("streams") or []
    # Cover art in an audio file is a one-picture "video" stream: not a video.
    videos = [s for s in streams if s.get("codec_type") == "video"]
    video = next((s for s in videos if not s.get("disposition", {}).get("attached_pic")), None)
    if video is None:
        raise SourceUnusable(NO_VIDEO)
    duration = _seconds(data.get("format", {}).get("duration")) or _seconds(video.get("duration"))
    if duration is None:
        raise SourceUnusable(NO_DURATION)
    width, height = video.get("width"), video.get("height")
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise SourceUnusable(UNDECODABLE)
    sides = video.get("side_data_list", [])
    rotation = next((side["rotation"] for side in sides if "rotation" in side), 0)
    if round(float(rotation)) % 180:
        width, height = height, width
    return SourceInfo(
        duration=duration,
        width=width,
        height=height,
        has_audio=any(stream.get("codec_type") == "audio" for stream in streams),
        video_codec=str(video.get("codec_name", "")),
    )


def _master_renditions(master: str) -> tuple[RenditionOutput, ...]:
    lines = master.splitlines()
    renditions = []
    for tag, uri in itertools.pairwise(lines):
        if not tag.startswith("#EXT-X-STREAM-INF:"):
            continue
        attributes = dict(re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', tag.partition(":")[2]))
        width, height = (int(side) for side in attributes["RESOLUTION"].split("x"))
        bandwidth = int(attributes["BANDWIDTH"])
        name = uri.split("/")[0]
        renditions.append(
            RenditionOutput(name=name, width=width, height=height, bandwidth=bandwidth)
        )
    return tuple(renditions)


def _empty(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _seconds(value: object) -> float | None:
    """A finite positive number of seconds, or None: ffprobe says "N/A", and headers lie."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds > 0 else None


@cache
def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not on PATH (scripts/install-system-packages.sh adds it)")
    return path


def _ffmpeg(arguments: list[str], *, cwd: Path, deadline: float | None) -> None:
    # Relative output names, run inside out_dir, keep every URI in the playlists relative.
    command = [_binary("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", *arguments]
    _run(command, deadline=deadline, reason=NOT_TRANSCODED, cwd=cwd)


def _run(
    command: list[str], *, deadline: float | None, reason: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """subprocess.run kills and reaps the child on a timeout, so nothing keeps running."""
    remaining = None if deadline is None else deadline - time.monotonic()
    if remaining is not None and remaining <= 0:
        raise TranscodeTimeout(f"{Path(command[0]).name} had no time left")
    try:
        return subprocess.run(  # noqa: S603  # nosec B603
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            encoding="utf-8",
            errors="replace",  # tags in a file's metadata need not be UTF-8
            timeout=remaining,
            check=True,
        )
    except subprocess.TimeoutExpired:
        raise TranscodeTimeout(f"{Path(command[0]).name} ran out of time") from None
    except subprocess.CalledProcessError as error:
        raise SourceUnusable(reason, stderr_tail=error.stderr[-STDERR_TAIL_CHARS:]) from None

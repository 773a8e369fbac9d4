"""videos.transcoding with the real ffmpeg: the HLS renditions, the MP4 fallback, the poster and
the seek thumbnails of small clips made from ffmpeg's own test sources, read back with ffprobe."""

# ruff: noqa: S603 (ffmpeg and ffprobe from PATH, fixed arguments)

import itertools
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from videos import thumbnails, transcoding
from videos.transcoding import (
    SourceInfo,
    SourceUnusable,
    TranscodeTimeout,
    ladder,
    probe,
    transcode,
)

CLIP_SECONDS = 5
SEGMENT_SECONDS = 2
FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
FFPROBE = shutil.which("ffprobe") or "ffprobe"
LAVFI_VIDEO = f"testsrc2=rate=25:duration={CLIP_SECONDS}:size="
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")


def ffmpeg(*arguments: str | Path) -> None:
    command = [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y"]
    subprocess.run([*command, *map(str, arguments)], check=True, timeout=60)


def streams(path: Path) -> list[dict]:
    command = [FFPROBE, "-v", "error", "-print_format", "json", "-show_streams", str(path)]
    output = subprocess.run(command, check=True, capture_output=True, timeout=60).stdout
    return json.loads(output)["streams"]


def playlist_entries(playlist: Path) -> tuple[list[str], list[float], list[str]]:
    """(tags, EXTINF durations, URIs) of a media or master playlist."""
    lines = [line for line in playlist.read_text().splitlines() if line]
    tags = [line for line in lines if line.startswith("#")]
    durations = [float(tag[len("#EXTINF:") :].split(",")[0]) for tag in tags if "EXTINF" in tag]
    return tags, durations, [line for line in lines if not line.startswith("#")]


def top_level_boxes(path: Path) -> list[bytes]:
    boxes = []
    with path.open("rb") as file:
        while header := file.read(8):
            size, kind = int.from_bytes(header[:4], "big"), header[4:]
            if size == 1:
                size = int.from_bytes(file.read(8), "big")
                file.seek(size - 16, os.SEEK_CUR)
            else:
                file.seek(size - 8, os.SEEK_CUR)
            boxes.append(kind)
    return boxes


def seconds(hours: str, minutes: str, whole: str, milliseconds: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(whole) + int(milliseconds) / 1000


def ffmpeg_children() -> list[str]:
    """ffmpeg processes whose parent is this test process, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended meanwhile
            continue
        comm, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 1 :]
        if "ffmpeg" in comm and int(rest.split()[1]) == os.getpid():
            found.append(text)
    return found


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    made = {name: folder / name for name in ("hd.mp4", "silent.webm", "tiny.mp4", "audio.m4a")}
    x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    sine = f"sine=frequency=440:duration={CLIP_SECONDS}"
    ffmpeg("-f", "lavfi", "-i", LAVFI_VIDEO + "1280x720", "-f", "lavfi", "-i", sine,
           *x264, "-c:a", "aac", "-shortest", made["hd.mp4"])  # fmt: skip
    vp8 = ["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"]
    ffmpeg("-f", "lavfi", "-i", LAVFI_VIDEO + "640x360", *vp8, made["silent.webm"])
    ffmpeg("-f", "lavfi", "-i", LAVFI_VIDEO + "320x240", *x264, made["tiny.mp4"])
    ffmpeg("-f", "lavfi", "-i", sine, "-c:a", "aac", made["audio.m4a"])
    made["garbage.mp4"] = folder / "garbage.mp4"
    made["garbage.mp4"].write_bytes(b"\x00\x00\x00\x18ftypisom" + os.urandom(4000))
    return made


def _transcoded(clip: Path, out_dir: Path) -> tuple[transcoding.TranscodeResult, Path]:
    result = transcode(
        source=clip, out_dir=out_dir, info=probe(clip), segment_seconds=SEGMENT_SECONDS
    )
    return result, out_dir


@pytest.fixture(scope="module")
def hd(clips, tmp_path_factory):
    return _transcoded(clips["hd.mp4"], tmp_path_factory.mktemp("hd"))


@pytest.fixture(scope="module")
def silent(clips, tmp_path_factory):
    return _transcoded(clips["silent.webm"], tmp_path_factory.mktemp("silent"))


@pytest.fixture(scope="module")
def tiny(clips, tmp_path_factory):
    return _transcoded(clips["tiny.mp4"], tmp_path_factory.mktemp("tiny"))


@pytest.fixture(params=["hd", "silent", "tiny"])
def any_clip(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize(
    ("source_height", "rungs"),
    [
        (2160, [("360p", 360), ("720p", 720), ("1080p", 1080)]),
        (1080, [("360p", 360), ("720p", 720), ("1080p", 1080)]),
        (1079, [("360p", 360), ("720p", 720)]),
        (720, [("360p", 360), ("720p", 720)]),
        (360, [("360p", 360)]),
        (240, [("240p", 240)]),
        (239, [("238p", 238)]),
    ],
)
def test_the_ladder_never_upscales_and_always_has_a_rung(source_height, rungs):
    assert [(rung.name, rung.height) for rung in ladder(source_height)] == rungs


@pytest.mark.parametrize("duration", [0.3, 5.0, 100.0, 100.4, 7200.0, 86400.0])
def test_the_sprite_has_one_to_a_hundred_tiles_all_before_the_end(duration):
    plan = thumbnails.sprite_plan(duration=duration, width=640, height=360)

    assert 1 <= plan.count <= thumbnails.MAX_TILES
    assert (plan.count - 1) * plan.interval < duration
    assert plan.columns * plan.rows >= plan.count
    assert (plan.tile_width, plan.tile_height) == (160, 90)


def test_probe_reads_duration_size_audio_and_codec(clips):
    assert probe(clips["hd.mp4"]) == SourceInfo(
        duration=pytest.approx(CLIP_SECONDS, abs=0.1),
        width=1280,
        height=720,
        has_audio=True,
        video_codec="h264",
    )
    assert probe(clips["silent.webm"]).has_audio is False


def test_a_720p_source_gets_360p_and_720p_and_no_1080p(hd):
    result, out = hd

    assert [(r.name, r.width, r.height) for r in result.renditions] == [
        ("360p", 640, 360),
        ("720p", 1280, 720),
    ]
    assert sorted(path.name for path in out.iterdir() if path.is_dir()) == ["360p", "720p"]
    assert result.duration == pytest.approx(CLIP_SECONDS, abs=0.1)


def test_the_master_playlist_lists_each_rendition_with_bandwidth_resolution_and_codecs(hd):
    result, out = hd
    tags, _durations, uris = playlist_entries(out / result.master)

    variants = [tag for tag in tags if tag.startswith("#EXT-X-STREAM-INF:")]
    assert uris == ["360p/index.m3u8", "720p/index.m3u8"]
    for tag, rendition in zip(variants, result.renditions, strict=True):
        assert f"BANDWIDTH={rendition.bandwidth}" in tag and rendition.bandwidth > 0
        assert f"RESOLUTION={rendition.width}x{rendition.height}" in tag
        assert re.search(r'CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"', tag)


def test_every_variant_is_vod_with_relative_uris_and_the_segments_on_disk(any_clip):
    result, out = any_clip

    for rendition in result.renditions:
        folder = out / rendition.name
        tags, durations, uris = playlist_entries(folder / "index.m3u8")
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in tags and tags[-1] == "#EXT-X-ENDLIST"
        assert all(re.fullmatch(r"seg_\d{5}\.ts", uri) for uri in uris), uris
        assert sorted(uris) == sorted(path.name for path in folder.glob("*.ts"))
        assert abs(len(uris) - math.ceil(CLIP_SECONDS / SEGMENT_SECONDS)) <= 1
        assert sum(durations) == pytest.approx(CLIP_SECONDS, abs=0.5)
    _tags, _durations, master_uris = playlist_entries(out / result.master)
    assert all(not uri.startswith("/") and "://" not in uri for uri in master_uris)


def test_each_rendition_is_h264_and_aac_at_its_height(hd):
    result, out = hd

    for rendition in result.renditions:
        segment = streams(out / rendition.name / "seg_00000.ts")
        video = next(stream for stream in segment if stream["codec_type"] == "video")
        assert (video["codec_name"], video["height"]) == ("h264", rendition.height)
        assert video["pix_fmt"] == "yuv420p"
        assert [s["codec_name"] for s in segment if s["codec_type"] == "audio"] == ["aac"]


def test_the_fallback_is_a_faststart_h264_aac_mp4_of_the_720p_rendition(hd):
    result, out = hd
    fallback = out / result.fallback

    kinds = {s["codec_type"]: s for s in streams(fallback)}
    assert (kinds["video"]["codec_name"], kinds["video"]["height"]) == ("h264", 720)
    assert kinds["audio"]["codec_name"] == "aac"
    assert probe(fallback).duration == pytest.approx(CLIP_SECONDS, abs=0.1)
    boxes = top_level_boxes(fallback)
    assert boxes[0] == b"ftyp" and boxes.index(b"moov") < boxes.index(b"mdat")


def test_the_poster_is_a_jpeg_at_most_1280_wide_in_the_video_aspect(hd):
    result, out = hd

    with Image.open(out / result.poster) as poster:
        poster.load()
        assert (poster.format, poster.size) == ("JPEG", (1280, 720))


def test_the_thumbnail_cues_cover_the_video_and_point_inside_the_sprite(any_clip):
    result, out = any_clip
    with Image.open(out / result.thumbnails_sprite) as sprite:
        sprite.load()
        sprite_width, sprite_height = sprite.size
    lines = (out / result.thumbnails_vtt).read_text().split("\n")

    assert lines[0] == "WEBVTT"
    cues = [(CUE.match(line), target) for line, target in itertools.pairwise(lines)]
    cues = [(match, target) for match, target in cues if match]
    assert 1 <= len(cues) <= thumbnails.MAX_TILES
    previous_end = 0.0
    for match, target in cues:
        start, end = seconds(*match.groups()[:4]), seconds(*match.groups()[4:])
        assert start == previous_end and end > start
        previous_end = end
        url, _, box = target.partition("#xywh=")
        x, y, w, h = map(int, box.split(","))
        assert url == result.thumbnails_sprite
        assert w == 160 and x + w <= sprite_width and y + h <= sprite_height
    assert previous_end == pytest.approx(result.duration, abs=0.001)


def test_a_webm_without_audio_becomes_video_only_renditions(silent):
    result, out = silent

    assert [(r.name, r.width, r.height) for r in result.renditions] == [("360p", 640, 360)]
    assert [s["codec_type"] for s in streams(out / "360p" / "seg_00000.ts")] == ["video"]
    assert [s["codec_type"] for s in streams(out / result.fallback)] == ["video"]
    tags, _durations, _uris = playlist_entries(out / result.master)
    assert any(re.search(r'CODECS="avc1\.[0-9a-f]{6}"', tag) for tag in tags)


def test_a_source_below_360_lines_gets_one_rung_at_its_own_height(tiny):
    result, _out = tiny

    assert [(r.name, r.width, r.height) for r in result.renditions] == [("240p", 320, 240)]


def test_result_files_are_every_file_on_disk_sorted(any_clip):
    result, out = any_clip

    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert list(result.files) == on_disk
    names = (result.master, result.fallback, result.poster, result.thumbnails_vtt)
    assert {*names, result.thumbnails_sprite} <= set(result.files)


@pytest.mark.parametrize(
    ("clip", "reason"),
    [
        ("garbage.mp4", "The file could not be decoded."),
        ("audio.m4a", "The file has no video stream."),
    ],
)
def test_a_file_that_is_no_video_is_unusable_with_a_reason_naming_no_path(clips, clip, reason):
    with pytest.raises(SourceUnusable) as raised:
        probe(clips[clip])

    assert (raised.value.reason, str(raised.value)) == (reason, reason)
    assert str(clips[clip].parent) not in raised.value.reason


@pytest.mark.parametrize(
    "script",
    [
        "ffconcat version 1.0\nfile private.mp4\n",
        "#EXTM3U\n#EXT-X-TARGETDURATION:5\n#EXTINF:5,\nprivate.mp4\n#EXT-X-ENDLIST\n",
    ],
    ids=["ffconcat", "hls"],
)
def test_a_script_posing_as_an_mp4_cannot_make_ffmpeg_read_other_files(clips, tmp_path, script):
    """Even when the caller skipped probe: ffmpeg would otherwise follow the script to a file
    beside it and put that file's picture into the learner's video."""
    shutil.copy(clips["tiny.mp4"], tmp_path / "private.mp4")
    upload = tmp_path / "lecture.mp4"
    upload.write_text(script)
    info = SourceInfo(duration=5, width=320, height=240, has_audio=False, video_codec="h264")

    with pytest.raises(SourceUnusable, match=r"^The file could not be decoded\.$"):
        probe(upload)
    with pytest.raises(SourceUnusable, match=r"^The video could not be transcoded\.$"):
        transcode(source=upload, out_dir=tmp_path / "out", info=info)


def test_a_second_transcode_into_the_same_folder_leaves_only_its_own_files(clips, tmp_path):
    out = tmp_path / "out"
    first = _transcoded(clips["tiny.mp4"], out)[0]
    (out / "stale.txt").write_text("from an older run")
    (out / "1080p").mkdir()
    (out / "1080p" / "seg_00009.ts").write_bytes(b"old")
    (out / "240p" / "seg_00042.ts").write_bytes(b"old")

    second = _transcoded(clips["tiny.mp4"], out)[0]

    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert second.files == first.files
    assert on_disk == sorted({*second.files, "240p"})


def test_a_transcode_past_its_timeout_raises_and_leaves_no_ffmpeg_running(clips, tmp_path):
    info = probe(clips["hd.mp4"])

    with pytest.raises(TranscodeTimeout):
        transcode(source=clips["hd.mp4"], out_dir=tmp_path / "out", info=info, timeout=0.2)

    assert ffmpeg_children() == []


def test_the_source_may_not_lie_in_the_folder_that_is_emptied(clips, tmp_path):
    source = tmp_path / "tiny.mp4"
    shutil.copy(clips["tiny.mp4"], source)

    with pytest.raises(ValueError, match="out_dir"):
        transcode(source=source, out_dir=tmp_path, info=probe(source))

    assert source.exists()


def test_a_missing_ffmpeg_is_a_runtime_error_naming_it(clips, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    transcoding._binary.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="ffprobe"):
            probe(clips["tiny.mp4"])
        info = SourceInfo(duration=5, width=320, height=240, has_audio=False, video_codec="h264")
        with pytest.raises(RuntimeError, match="ffmpeg"):
            transcode(source=clips["tiny.mp4"], out_dir=tmp_path / "out", info=info)
    finally:
        transcoding._binary.cache_clear()


def test_a_portrait_source_sizes_its_rungs_by_the_shorter_side(clips, tmp_path):
    """A phone's upright 720x1280 gets 360x640 and 720x1280, not 202x360 and 406x720."""
    portrait = tmp_path / "portrait.mp4"
    ffmpeg("-f", "lavfi", "-i", LAVFI_VIDEO + "720x1280", "-t", "2",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", portrait)  # fmt: skip
    result, out = _transcoded(portrait, tmp_path / "out")

    assert [(r.name, r.width, r.height) for r in result.renditions] == [
        ("360p", 360, 640),
        ("720p", 720, 1280),
    ]
    (segment,) = [s for s in streams(out / "720p" / "seg_00000.ts") if s["codec_type"] == "video"]
    assert (segment["width"], segment["height"]) == (720, 1280)

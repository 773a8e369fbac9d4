"""Identify an uploaded video by its bytes and read its duration, without ffmpeg.

MP4 and QuickTime (.mov) are ISO base media files: a `ftyp` box names the brand, and the
`moov/mvhd` box holds the timescale and the duration. WebM is Matroska: an EBML header whose
DocType is "webm", then `Segment/Info` with TimecodeScale and Duration. Anything else, and any
file whose structure does not add up (a truncated upload, a box running past the end, a duration
that is not a finite positive number of seconds), is refused.
"""

import math
import struct
from dataclasses import dataclass
from typing import IO

MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash",
              b"M4V ", b"mmp4", b"MSNV"}  # fmt: skip
QUICKTIME_BRANDS = {b"qt  "}
CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"}

EBML_HEADER = 0x1A45DFA3
EBML_DOCTYPE = 0x4282
MKV_SEGMENT = 0x18538067
MKV_INFO = 0x1549A966
MKV_TIMECODE_SCALE = 0x2AD7B1
MKV_DURATION = 0x4489
# The largest payload read for a header value: a DocType is a few letters, a TimecodeScale at
# most 8 bytes. A larger one is refused rather than read into memory.
MAX_DOCTYPE_BYTES = 32
MAX_UINT_BYTES = 8


class UnreadableVideo(Exception):
    """The bytes are not a video this module can read (the message says where it failed)."""


@dataclass(frozen=True)
class VideoInfo:
    content_type: str  # video/mp4, video/quicktime or video/webm
    duration: float  # seconds


def probe(stream: IO[bytes], size: int) -> VideoInfo:
    stream.seek(0)
    head = stream.read(12)
    stream.seek(0)
    if len(head) >= 8 and head[4:8] == b"ftyp":
        info = _probe_iso(stream, size)
    elif len(head) >= 4 and int.from_bytes(head[:4], "big") == EBML_HEADER:
        info = _probe_webm(stream, size)
    else:
        raise UnreadableVideo("not an MP4, QuickTime or WebM file")
    # NaN and infinity pass `> 0` checks (and PostgreSQL ranks NaN above every number).
    if not (math.isfinite(info.duration) and info.duration > 0):
        raise UnreadableVideo(f"the duration {info.duration!r} is not a positive number")
    return info


# --- ISO base media (MP4, MOV) -------------------------------------------------------------------


def _boxes(stream: IO[bytes], start: int, end: int):
    """(type, payload offset, payload end) of each box between start and end."""
    offset = start
    while offset < end:
        stream.seek(offset)
        header = stream.read(8)
        if len(header) < 8:
            raise UnreadableVideo("truncated box header")
        box_size, box_type = struct.unpack(">I4s", header)
        header_size = 8
        if box_size == 1:
            large = stream.read(8)
            if len(large) < 8:
                raise UnreadableVideo("truncated box header")
            box_size, header_size = struct.unpack(">Q", large)[0], 16
        elif box_size == 0:
            box_size = end - offset
        if box_size < header_size or offset + box_size > end:
            raise UnreadableVideo(f"box {box_type!r} runs past the end of the file")
        yield box_type, offset + header_size, offset + box_size
        offset += box_size


def _probe_iso(stream: IO[bytes], size: int) -> VideoInfo:
    content_type = None
    duration = None
    for box_type, start, end in _boxes(stream, 0, size):
        if box_type == b"ftyp":
            stream.seek(start)
            brand = stream.read(4)
            if brand in QUICKTIME_BRANDS:
                content_type = "video/quicktime"
            elif brand in MP4_BRANDS:
                content_type = "video/mp4"
            else:
                raise UnreadableVideo(f"unknown brand {brand!r}")
        elif box_type == b"moov":
            duration = _mvhd_duration(stream, start, end)
    if content_type is None or duration is None:
        raise UnreadableVideo("no movie header (ftyp/moov) found")
    return VideoInfo(content_type=content_type, duration=duration)


def _mvhd_duration(stream: IO[bytes], start: int, end: int) -> float:
    for box_type, payload, _box_end in _boxes(stream, start, end):
        if box_type != b"mvhd":
            continue
        stream.seek(payload)
        version = stream.read(1)
        stream.read(3)  # flags
        if version == b"\x01":
            data = stream.read(28)
            if len(data) < 28:
                raise UnreadableVideo("truncated mvhd")
            timescale, duration = struct.unpack(">16xIQ", data)
        else:
            data = stream.read(16)
            if len(data) < 16:
                raise UnreadableVideo("truncated mvhd")
            timescale, duration = struct.unpack(">8xII", data)
        if not timescale or not duration:
            raise UnreadableVideo("the movie has no duration")
        return duration / timescale
    raise UnreadableVideo("no mvhd box")


# --- Matroska / WebM ----------------------------------------------------------------------------


def _vint(stream: IO[bytes], *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer: (value, length in bytes)."""
    first = stream.read(1)
    if not first:
        raise UnreadableVideo("truncated EBML element")
    byte = first[0]
    length = next((n for n in range(1, 9) if byte & (0x80 >> (n - 1))), None)
    if length is None:
        raise UnreadableVideo("bad EBML length")
    rest = stream.read(length - 1)
    if len(rest) < length - 1:
        raise UnreadableVideo("truncated EBML element")
    value = byte if keep_marker else byte & (0xFF >> length)
    for b in rest:
        value = (value << 8) | b
    return value, length


def _elements(stream: IO[bytes], start: int, end: int):
    offset = start
    while offset < end:
        stream.seek(offset)
        element_id, id_length = _vint(stream, keep_marker=True)
        data_size, size_length = _vint(stream, keep_marker=False)
        data_start = offset + id_length + size_length
        unknown_size = data_size == (1 << (7 * size_length)) - 1
        data_end = end if unknown_size else data_start + data_size
        if data_end > end:
            raise UnreadableVideo("EBML element runs past the end of the file")
        yield element_id, data_start, data_end
        offset = data_end


def _read(stream: IO[bytes], start: int, end: int) -> bytes:
    stream.seek(start)
    return stream.read(end - start)


def _probe_webm(stream: IO[bytes], size: int) -> VideoInfo:
    doc_type = None
    duration = None
    for element_id, start, end in _elements(stream, 0, size):
        if element_id == EBML_HEADER:
            for child, child_start, child_end in _elements(stream, start, end):
                if child == EBML_DOCTYPE:
                    if child_end - child_start > MAX_DOCTYPE_BYTES:
                        raise UnreadableVideo("the EBML DocType is too long")
                    doc_type = _read(stream, child_start, child_end).rstrip(b"\x00")
        elif element_id == MKV_SEGMENT:
            duration = _segment_duration(stream, start, end)
            break
    if doc_type != b"webm":
        raise UnreadableVideo("not a WebM file")
    if duration is None:
        raise UnreadableVideo("the WebM file declares no duration")
    return VideoInfo(content_type="video/webm", duration=duration)


def _segment_duration(stream: IO[bytes], start: int, end: int) -> float | None:
    for element_id, info_start, info_end in _elements(stream, start, end):
        if element_id != MKV_INFO:
            continue
        scale, raw = 1_000_000, None
        for child, child_start, child_end in _elements(stream, info_start, info_end):
            length = child_end - child_start
            if child == MKV_TIMECODE_SCALE:
                if not 1 <= length <= MAX_UINT_BYTES:
                    raise UnreadableVideo("bad TimecodeScale")
                scale = int.from_bytes(_read(stream, child_start, child_end), "big")
            elif child == MKV_DURATION and length in (4, 8):
                data = _read(stream, child_start, child_end)
                raw = struct.unpack(">f" if length == 4 else ">d", data)[0]
        if raw is None or not raw > 0 or not scale:
            return None
        return raw * scale / 1e9
    return None

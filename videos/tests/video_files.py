"""Video files for the tests: a real small MP4, and headers built by hand to say any duration."""

import struct
from pathlib import Path

MP4 = (Path(__file__).parent / "fixtures" / "tiny.mp4").read_bytes()


def ebml(element_id: int, payload: bytes) -> bytes:
    """One EBML element with a 1- or 8-byte size."""
    size = (
        bytes([0x80 | len(payload)])
        if len(payload) < 127
        else b"\x01" + len(payload).to_bytes(7, "big")
    )
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + size + payload


def webm(duration: float | None = 3000.0, *, scale: bytes = b"\x0f\x42\x40", doctype=b"webm"):
    """A WebM header whose Info says `duration` ticks of `scale` ns (3000 x 1 ms = 3 s)."""
    info = ebml(0x2AD7B1, scale)
    if duration is not None:
        info += ebml(0x4489, struct.pack(">d", duration))
    segment = ebml(0x1549A966, info)
    return (
        ebml(0x1A45DFA3, ebml(0x4282, doctype))
        + bytes.fromhex("18538067")
        + b"\x01\xff\xff\xff\xff\xff\xff\xff"  # unknown size: to the end of the file
        + segment
    )


def mp4(timescale: int, duration: int, *, version: int = 1) -> bytes:
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I4s", 8 + len(payload), kind) + payload

    if version == 1:
        mvhd = b"\x01\x00\x00\x00" + struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        mvhd = b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale, duration)
    return box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"moov", box(b"mvhd", mvhd + bytes(80)))

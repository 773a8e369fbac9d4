"""Peak memory of one image upload's decode, measured in a fresh process (resource.getrusage):
a 7000 x 7000 PNG of ~200 KB once took a worker 370-570 MB; now it is refused before a pixel is
decoded, and the largest PNG accepted by default (16 MP) stays well under 200 MB."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

MEASURE = r"""
import json, resource, struct, sys, zlib
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from core.exceptions import ApplicationError
from core.images import image_encode

def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

side = int(sys.argv[1])
row = b"\x00" + b"\x0a\xc8\x1e\xff" * side  # RGBA, one colour: compresses ~1000:1
compressor = zlib.compressobj(9)
idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0))
       + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    image_encode(file=SimpleUploadedFile("x.png", png))
    outcome = "stored"
except ApplicationError as error:
    outcome = error.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"bytes": len(png), "outcome": outcome, "peak_mb": (after - before) / 1024}))
"""


def decode_peak(side: int) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", MEASURE, str(side)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_a_small_7000_by_7000_png_is_refused_without_decoding_it():
    measured = decode_peak(7000)
    assert measured["bytes"] < 300_000
    assert measured["outcome"] == "invalid_image"
    assert measured["peak_mb"] < 20, measured


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in KiB on Linux")
def test_the_largest_png_accepted_by_default_stays_under_200_mb():
    measured = decode_peak(4000)  # 16 MP, RGBA: the worst case under the default cap
    assert measured["outcome"] == "stored"
    assert measured["peak_mb"] < 200, measured

"""Refused image uploads: other formats, broken files, too many pixels, too many bytes, no file;
a 4xx in the envelope and nothing stored."""

import random
import struct

import pytest
from django.core.files.uploadhandler import MemoryFileUploadHandler

from core.testing import assert_error_envelope
from videos.models import Image
from videos.tests.images import (
    URL,
    encode,
    noise,
    picture,
    png_declaring,
    post_image,
    stored_files,
    upload,
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def truncated(content: bytes) -> bytes:
    return content[: len(content) // 2]


def bad_crc_png() -> bytes:
    """Pixel data intact, its checksum wrong: only verify() notices, decoding does not."""
    content = bytearray(encode(noise((32, 32)), "PNG"))
    idat = content.index(b"IDAT")
    (length,) = struct.unpack(">I", content[idat - 4 : idat])
    content[idat + 4 + length] ^= 0xFF
    return bytes(content)


NOT_AN_IMAGE = "Upload a PNG, JPEG or WebP image."
DAMAGED = "The image is damaged or incomplete."
REFUSED = {
    "gif": ("photo.gif", lambda: encode(picture(), "GIF"), NOT_AN_IMAGE),
    "bmp": ("photo.png", lambda: encode(picture(), "BMP"), NOT_AN_IMAGE),
    "tiff": ("photo.jpg", lambda: encode(picture(), "TIFF"), NOT_AN_IMAGE),
    "ico": ("photo.png", lambda: encode(picture((32, 32)), "ICO"), NOT_AN_IMAGE),
    "random-bytes-named-png": ("photo.png", lambda: random.randbytes(4096), NOT_AN_IMAGE),
    "text-named-jpg": ("photo.jpg", lambda: b"just some text, not a picture\n" * 10, NOT_AN_IMAGE),
    "svg-named-png": (
        "photo.png",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>',
        NOT_AN_IMAGE,
    ),
    "pdf-named-png": ("photo.png", lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", NOT_AN_IMAGE),
    "png-signature-only": ("photo.png", lambda: b"\x89PNG\r\n\x1a\n", NOT_AN_IMAGE),
    "truncated-png": ("photo.png", lambda: truncated(encode(noise((64, 64)), "PNG")), DAMAGED),
    "truncated-jpeg": ("photo.jpg", lambda: truncated(encode(noise((64, 64)), "JPEG")), DAMAGED),
    "truncated-webp": ("photo.webp", lambda: truncated(encode(noise((64, 64)), "WEBP")), DAMAGED),
    "png-bad-crc": ("photo.png", bad_crc_png, DAMAGED),
    "jpeg-header-only": ("photo.jpg", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", DAMAGED),
}


class TestRefusedUploads:
    @pytest.mark.parametrize("case", list(REFUSED))
    def test_other_formats_and_broken_files_are_400_invalid_image_and_nothing_is_stored(
        self, auth_client, settings, case
    ):
        name, make, message = REFUSED[case]

        response = post_image(auth_client, make(), name, "image/png")

        error = assert_error_envelope(response, 400, "invalid_image")
        assert error["message"] == message
        assert error["fields"] == {"file": [message]}
        assert not Image.objects.exists()
        assert stored_files(settings) == []

    def test_a_png_declaring_20000_by_20000_pixels_is_400_before_decoding(
        self, auth_client, settings
    ):
        content = png_declaring(20000, 20000)
        assert len(content) < 200

        response = post_image(auth_client, content)

        error = assert_error_envelope(response, 400, "invalid_image")
        assert "megapixels" in error["message"]
        assert not Image.objects.exists()
        assert stored_files(settings) == []

    @pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
    def test_a_png_over_the_pixel_cap_but_under_pillows_own_is_400(self, auth_client, settings):
        response = post_image(auth_client, png_declaring(10000, 10000))  # 100 MP > 50 MP cap

        error = assert_error_envelope(response, 400, "invalid_image")
        assert "at most 50 megapixels" in error["message"]
        assert stored_files(settings) == []

    @pytest.mark.parametrize(("size", "status_code"), [((100, 100), 201), ((101, 100), 400)])
    def test_the_pixel_cap_comes_from_the_setting(self, auth_client, settings, size, status_code):
        settings.IMAGE_MAX_PIXELS = 10_000

        response = post_image(auth_client, encode(picture(size), "PNG"))

        assert response.status_code == status_code, response.content
        if status_code == 400:
            assert_error_envelope(response, 400, "invalid_image")
        assert Image.objects.count() == len(stored_files(settings)) == (status_code == 201)

    @pytest.mark.parametrize(("slack", "status_code"), [(0, 201), (-1, 413)])
    def test_uploads_over_the_size_limit_are_413_file_too_large(
        self, auth_client, settings, slack, status_code
    ):
        content = encode(noise((40, 40)), "PNG")
        settings.IMAGE_MAX_UPLOAD_BYTES = len(content) + slack

        response = post_image(auth_client, content)

        assert response.status_code == status_code, response.content
        if status_code == 413:
            error = assert_error_envelope(response, 413, "file_too_large")
            assert list(error["fields"]) == ["file"]
        assert Image.objects.count() == len(stored_files(settings)) == (status_code == 201)

    def test_an_oversized_upload_is_cut_off_while_it_arrives(self, auth_client, settings):
        RecordingUploadHandler.received = 0
        settings.FILE_UPLOAD_HANDLERS = [f"{__name__}.RecordingUploadHandler"]
        settings.IMAGE_MAX_UPLOAD_BYTES = 100 * 1024

        response = post_image(auth_client, random.randbytes(1024 * 1024))

        assert_error_envelope(response, 413, "file_too_large")
        # Only the bytes up to the limit reached the handler that keeps the file.
        assert RecordingUploadHandler.received <= 100 * 1024
        assert stored_files(settings) == []

    @pytest.mark.parametrize(
        ("data", "fmt"),
        [
            ({}, "multipart"),
            ({"file": upload("empty.png", b"")}, "multipart"),
            ({"file": "not a file"}, "multipart"),
            ({"file": "aGVsbG8="}, "json"),
        ],
        ids=["missing", "empty", "text-field", "json-body"],
    )
    def test_no_usable_file_is_400_validation_error(self, auth_client, settings, data, fmt):
        response = auth_client.post(URL, data, format=fmt)

        error = assert_error_envelope(response, 400, "validation_error")
        assert list(error["fields"]) == ["file"]
        assert not Image.objects.exists()
        assert stored_files(settings) == []


class RecordingUploadHandler(MemoryFileUploadHandler):
    """Counts the bytes that reach Django's own handlers."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        type(self).received += len(raw_data)
        return super().receive_data_chunk(raw_data, start)

"""What one upload may cost: the pixels decoded at once are capped (a small PNG must not unpack
into hundreds of megabytes; a JPEG is decoded reduced), and each user's image and video uploads
are rate-limited (429 in the envelope, with Retry-After), whichever endpoint takes them."""

import io
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory
from core.testing import assert_error_envelope, throttle_rates
from courses.tests.factories import CourseFactory
from videos.models import Image, Video

MP4 = (Path(__file__).parent / "fixtures" / "tiny.mp4").read_bytes()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def stored_images(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(root.rglob("*.*")) if root.exists() else []


def flat_png(width: int, height: int) -> bytes:
    """A real, fully decodable RGBA PNG of one colour, built row by row: a few hundred KB on the
    wire for 7000 x 7000 pixels (196 MB once decoded), without holding it in memory here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\x0a\xc8\x1e\xff" * width
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (width, height), (10, 200, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def post_image(client, content: bytes, name: str = "photo.png"):
    file = SimpleUploadedFile(name, content, content_type="image/png")
    return client.post("/api/images/", {"file": file}, format="multipart")


# --- Pixels decoded at once ----------------------------------------------------------------------


@pytest.mark.django_db
class TestDecodedPixels:
    def test_a_200_kb_7000_by_7000_png_is_400_before_it_is_decoded(self, auth_client, settings):
        content = flat_png(7000, 7000)
        assert len(content) < 300_000  # under every size limit: only its pixels give it away
        response = post_image(auth_client, content)
        error = assert_error_envelope(response, 400, "invalid_image")
        assert "at most 16 megapixels" in error["message"]
        assert not Image.objects.exists()
        assert stored_images(settings) == []

    @pytest.mark.parametrize(("size", "status_code"), [((1000, 1000), 201), ((1001, 1000), 400)])
    def test_the_decoded_cap_comes_from_the_setting(self, auth_client, settings, size, status_code):
        settings.IMAGE_MAX_DECODED_PIXELS = 1_000_000
        response = post_image(auth_client, flat_png(*size))
        assert response.status_code == status_code, response.content
        assert Image.objects.count() == len(stored_images(settings)) == (status_code == 201)

    def test_a_large_jpeg_is_decoded_reduced_so_it_passes_the_cap(self, auth_client, settings):
        """3200 x 1600 is 5.1 MP, but with a 400 px box the JPEG decoder reads it at 1/4."""
        settings.IMAGE_MAX_DECODED_PIXELS = 1_000_000
        settings.IMAGE_MAX_BOX = 400
        response = post_image(auth_client, jpeg(3200, 1600), "photo.jpg")
        assert response.status_code == 201, response.content
        assert (response.json()["width"], response.json()["height"]) == (400, 200)
        too_wide = post_image(auth_client, jpeg(12000, 100), "strip.jpg")  # cannot be reduced
        assert_error_envelope(too_wide, 400, "invalid_image")


# --- Rates per user ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestUploadRates:
    def test_a_burst_of_image_uploads_is_cut_at_the_rate_with_retry_after(self, user, settings):
        throttle_rates(settings, image_upload="3/min")
        client = client_for(user)
        statuses = [post_image(client, flat_png(8, 8)).status_code for _ in range(3)]
        refused = post_image(client, flat_png(8, 8))
        assert statuses == [201, 201, 201]
        error = assert_error_envelope(refused, 429, "throttled")
        assert error["fields"] == {}
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert Image.objects.filter(owner=user).count() == 3
        assert len(stored_images(settings)) == 3
        other = client_for(TutorFactory())  # the rate is per user
        assert post_image(other, flat_png(8, 8)).status_code == 201

    def test_failed_uploads_count_too_and_listing_does_not(self, user, settings):
        throttle_rates(settings, image_upload="2/min")
        client = client_for(user)
        assert_error_envelope(post_image(client, b"not an image"), 400, "invalid_image")
        assert_error_envelope(post_image(client, flat_png(7000, 7000)), 400, "invalid_image")
        for _ in range(5):
            assert client.get("/api/images/").status_code == 200
        assert_error_envelope(post_image(client, flat_png(8, 8)), 429, "throttled")

    def test_course_thumbnails_share_the_image_rate(self, settings):
        throttle_rates(settings, image_upload="2/min")
        course = CourseFactory()
        client = client_for(course.tutor)
        assert post_image(client, flat_png(8, 8)).status_code == 201
        url = f"/api/courses/{course.pk}/thumbnail/"
        file = SimpleUploadedFile("cover.png", flat_png(8, 8), content_type="image/png")
        assert client.put(url, {"file": file}, format="multipart").status_code == 200
        file = SimpleUploadedFile("cover.png", flat_png(8, 8), content_type="image/png")
        response = client.put(url, {"file": file}, format="multipart")
        assert_error_envelope(response, 429, "throttled")
        assert response["Retry-After"]

    def test_a_burst_of_video_uploads_is_cut_at_the_rate(self, settings):
        throttle_rates(settings, video_upload="2/hour")
        tutor = TutorFactory()
        client = client_for(tutor)

        def upload():
            file = SimpleUploadedFile("lecture.mp4", MP4, content_type="video/mp4")
            return client.post("/api/videos/", {"file": file, "title": "L"}, format="multipart")

        assert [upload().status_code, upload().status_code] == [201, 201]
        refused = upload()
        assert_error_envelope(refused, 429, "throttled")
        assert int(refused["Retry-After"]) > 60  # an hour's window
        assert Video.objects.filter(owner=tutor).count() == 2
        assert client.get("/api/videos/").status_code == 200  # reading is not counted

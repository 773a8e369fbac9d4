"""Image uploads: judged by content, re-encoded without metadata, owner-only; status, body, the
database and the storage afterwards."""

import io
import random
import struct
import zlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.db import IntegrityError, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from PIL import ExifTags, ImageCms
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.exceptions import ApplicationError
from core.testing import assert_error_envelope
from videos.models import Image
from videos.services.images import image_create, image_delete
from videos.tests.factories import ImageFactory

URL = "/api/images/"
IMAGE_KEYS = {"id", "url", "width", "height", "format", "size", "created_at"}
RED, BLUE = (220, 20, 20), (20, 20, 220)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def stored_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def detail_url(image_id) -> str:
    return f"{URL}{image_id}/"


# --- Building uploads in memory -------------------------------------------------------------------


def encode(image: PILImage.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def picture(size=(120, 80), color=RED, mode="RGB") -> PILImage.Image:
    return PILImage.new(mode, size, color)


def halves(size=(400, 200)) -> PILImage.Image:
    """Left half red, right half blue: shows which way a picture was turned."""
    image = picture(size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def noise(size) -> PILImage.Image:
    return PILImage.frombytes("RGB", size, random.randbytes(size[0] * size[1] * 3))


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height, with a few bytes of pixel data: tiny on the
    wire, gigantic once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 256))
        + chunk(b"IEND", b"")
    )


def camera_exif(orientation: int = 1) -> PILImage.Exif:
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (37.0, 33.0, 59.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (126.0, 58.0, 41.0)
    return exif


SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret-xmp</x:xmpmeta>'


def swapped_primaries_icc() -> bytes:
    """A minimal ICC v2 RGB profile whose red and green primaries are sRGB's green and red, with
    linear curves: its pure red is sRGB's pure green."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    linear = b"curv" + b"\0" * 4 + struct.pack(">IH", 1, 256) + b"\0\0"
    tags = [
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", linear),
        (b"gTRC", linear),
        (b"bTRC", linear),
    ]
    offset, table, data = 128 + 4 + 12 * len(tags), b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    header = (
        struct.pack(">I", offset + len(data))
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 28
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    return header + struct.pack(">I", len(tags)) + table + data


def with_metadata(
    fmt: str, image: PILImage.Image | None = None, orientation: int = 1, icc: bool = True
) -> bytes:
    """`image` carrying EXIF (orientation, camera, GPS), an ICC profile, XMP and a comment, as far
    as the format holds them."""
    image = image or picture()
    params = {"exif": camera_exif(orientation), "icc_profile": SRGB_ICC if icc else None}
    if fmt == "JPEG":
        params |= {"xmp": XMP, "comment": b"secret-comment"}
    elif fmt == "WEBP":
        params |= {"xmp": XMP}
    else:
        info = PngInfo()
        info.add_text("Comment", "secret-comment")
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        params |= {"pnginfo": info}
    return encode(image, fmt, **params)


def mpo() -> bytes:
    """A camera JPEG carrying a second picture (MPF): Pillow calls it MPO."""
    return encode(picture(), "MPO", save_all=True, append_images=[picture(color=BLUE)])


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def post_image(client, content: bytes, name: str = "photo.png", content_type: str = "image/png"):
    return client.post(URL, {"file": upload(name, content, content_type)}, format="multipart")


def reopen(image: Image) -> PILImage.Image:
    with default_storage.open(image.file.name) as stored:
        opened = PILImage.open(io.BytesIO(stored.read()))
        opened.load()
        return opened


def stored_bytes(image: Image) -> bytes:
    with default_storage.open(image.file.name) as stored:
        return stored.read()


def close_to(actual, expected, tolerance=40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --- Accepted uploads -----------------------------------------------------------------------------


class TestUpload:
    @pytest.mark.parametrize(
        ("source", "output", "stored_format", "extension"),
        [
            ("PNG", "WEBP", "webp", "webp"),
            ("JPEG", "WEBP", "webp", "webp"),
            ("WEBP", "WEBP", "webp", "webp"),
            ("PNG", "JPEG", "jpeg", "jpg"),
            ("JPEG", "JPEG", "jpeg", "jpg"),
            ("WEBP", "JPEG", "jpeg", "jpg"),
        ],
    )
    def test_png_jpeg_and_webp_are_stored_re_encoded_in_the_configured_format(
        self, auth_client, user, settings, source, output, stored_format, extension
    ):
        settings.IMAGE_OUTPUT_FORMAT = output

        response = post_image(auth_client, encode(picture((120, 80)), source), "holiday.png")

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == IMAGE_KEYS
        image = Image.objects.get()
        assert (image.owner, image.width, image.height) == (user, 120, 80)
        assert image.format == stored_format
        assert body == {
            "id": image.pk,
            "url": f"http://testserver/media/{image.file.name}",
            "width": 120,
            "height": 80,
            "format": stored_format,
            "size": image.size,
            "created_at": body["created_at"],
        }
        assert stored_files(settings) == [image.file.name]
        assert image.file.name.startswith("images/")
        assert image.file.name.endswith(f".{extension}")
        assert "holiday" not in image.file.name  # a random name, never the client's
        assert image.size == len(stored_bytes(image))
        stored = reopen(image)
        assert stored.format == output
        assert stored.size == (120, 80)
        assert close_to(stored.getpixel((60, 40))[:3], RED)

    def test_every_upload_gets_a_different_random_name(self, auth_client, settings):
        content = encode(picture(), "PNG")
        first = post_image(auth_client, content, "same.png")
        second = post_image(auth_client, content, "same.png")

        assert (first.status_code, second.status_code) == (201, 201)
        names = [image.file.name for image in Image.objects.all()]
        assert len(set(names)) == 2
        assert stored_files(settings) == sorted(names)

    @pytest.mark.parametrize(
        ("name", "content_type"),
        [
            ("photo.jpg", "image/jpeg"),  # a PNG named and typed as a JPEG
            ("photo.gif", "image/gif"),
            ("photo", "application/octet-stream"),
            ("../../etc/passwd", "text/plain"),
        ],
    )
    def test_the_content_decides_not_the_name_or_the_declared_type(
        self, auth_client, settings, name, content_type
    ):
        response = post_image(auth_client, encode(picture(), "PNG"), name, content_type)

        assert response.status_code == 201, response.content
        image = Image.objects.get()
        assert image.file.name.startswith("images/")
        assert stored_files(settings) == [image.file.name]

    def test_a_camera_jpeg_with_an_extra_picture_mpo_is_accepted_as_jpeg(
        self, auth_client, settings
    ):
        response = post_image(auth_client, mpo(), "camera.jpg", "image/jpeg")

        assert response.status_code == 201, response.content
        image = Image.objects.get()
        assert (image.width, image.height) == (120, 80)
        assert close_to(reopen(image).getpixel((60, 40)), RED)  # the first picture

    @pytest.mark.parametrize("source", ["PNG", "WEBP"])
    def test_an_animation_is_stored_as_its_first_frame(self, auth_client, source):
        frames = [picture(color=RED), picture(color=BLUE)]
        content = encode(frames[0], source, save_all=True, append_images=frames[1:], duration=100)
        assert PILImage.open(io.BytesIO(content)).n_frames == 2  # the test's own premise

        response = post_image(auth_client, content)

        assert response.status_code == 201, response.content
        stored = reopen(Image.objects.get())
        assert getattr(stored, "n_frames", 1) == 1
        assert close_to(stored.getpixel((60, 40))[:3], RED)

    @pytest.mark.parametrize(
        ("source", "box", "expected"),
        [
            ((300, 100), 100, (100, 33)),  # wide: width fits the box
            ((50, 400), 100, (12, 100)),  # tall: height fits the box
            ((100, 100), 100, (100, 100)),  # exactly the box
            ((80, 60), 100, (80, 60)),  # smaller: never upscaled
            ((2000, 1000), None, (1600, 800)),  # the default box is 1600
        ],
    )
    def test_images_are_shrunk_into_the_box_keeping_the_aspect_ratio(
        self, auth_client, settings, source, box, expected
    ):
        if box is not None:
            settings.IMAGE_MAX_BOX = box

        response = post_image(auth_client, encode(picture(source), "PNG"))

        assert response.status_code == 201, response.content
        assert (response.json()["width"], response.json()["height"]) == expected
        image = Image.objects.get()
        assert (image.width, image.height) == expected
        assert reopen(image).size == expected

    @pytest.mark.parametrize("icc", [True, False], ids=["with-icc", "without-icc"])
    @pytest.mark.parametrize("source", ["JPEG", "PNG", "WEBP"])
    @pytest.mark.parametrize("output", ["WEBP", "JPEG"])
    def test_exif_gps_icc_xmp_and_comments_are_stripped(
        self, auth_client, settings, source, output, icc
    ):
        settings.IMAGE_OUTPUT_FORMAT = output
        content = with_metadata(source, icc=icc)
        original = PILImage.open(io.BytesIO(content))
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test's own premise
        assert ("icc_profile" in original.info) == icc

        response = post_image(auth_client, content)

        assert response.status_code == 201, response.content
        image = Image.objects.get()
        stored = reopen(image)
        assert len(stored.getexif()) == 0
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp"} & set(stored.info)
        raw = stored_bytes(image)
        for marker in (b"Exif", b"PhoneCo", b"secret", b"xmpmeta", b"ICC_PROFILE", b"ICCP"):
            assert marker not in raw, marker
        assert close_to(stored.getpixel((60, 40))[:3], RED)  # colours survive the profile

    @pytest.mark.parametrize("source", ["JPEG", "PNG", "WEBP"])
    def test_pixels_in_another_colour_profile_are_converted_to_srgb(self, auth_client, source):
        content = encode(picture(color=(255, 0, 0)), source, icc_profile=swapped_primaries_icc())

        response = post_image(auth_client, content)

        assert response.status_code == 201, response.content
        stored = reopen(Image.objects.get())
        assert "icc_profile" not in stored.info
        assert close_to(stored.getpixel((60, 40))[:3], (0, 255, 0))  # its red is sRGB's green

    @pytest.mark.parametrize("source", ["JPEG", "PNG", "WEBP"])
    def test_exif_orientation_is_applied_before_the_metadata_is_dropped(self, auth_client, source):
        # Orientation 6: the camera was held upright; the picture must be turned 90° clockwise.
        content = with_metadata(source, halves((400, 200)), orientation=6)

        response = post_image(auth_client, content)

        assert response.status_code == 201, response.content
        assert (response.json()["width"], response.json()["height"]) == (200, 400)
        stored = reopen(Image.objects.get())
        assert stored.size == (200, 400)
        assert close_to(stored.getpixel((100, 50))[:3], RED)  # the left half is now on top
        assert close_to(stored.getpixel((100, 350))[:3], BLUE)
        assert ExifTags.Base.Orientation not in stored.getexif()

    @pytest.mark.parametrize("output", ["WEBP", "JPEG"])
    def test_transparency_is_kept_in_webp_and_flattened_on_white_in_jpeg(
        self, auth_client, settings, output
    ):
        settings.IMAGE_OUTPUT_FORMAT = output
        image = PILImage.new("RGBA", (80, 80), (0, 0, 0, 0))
        image.paste((*RED, 255), (30, 30, 50, 50))

        response = post_image(auth_client, encode(image.convert("P"), "PNG"))  # tRNS palette

        assert response.status_code == 201, response.content
        stored = reopen(Image.objects.get())
        assert close_to(stored.getpixel((40, 40))[:3], RED)
        if output == "WEBP":
            assert stored.mode == "RGBA"
            assert (stored.getpixel((2, 2))[3], stored.getpixel((40, 40))[3]) == (0, 255)
        else:
            assert stored.mode == "RGB"
            assert close_to(stored.getpixel((2, 2)), (255, 255, 255), tolerance=8)

    @pytest.mark.parametrize(
        ("image", "fmt", "expected"),
        [
            (PILImage.new("I;16", (20, 20), 32768), "PNG", (128, 128, 128)),  # 16-bit grey
            (PILImage.new("LA", (20, 20), (200, 255)), "PNG", (200, 200, 200)),
            (PILImage.new("1", (20, 20), 1), "PNG", (255, 255, 255)),
            (PILImage.new("CMYK", (20, 20), (0, 255, 255, 0)), "JPEG", (255, 0, 0)),
            (PILImage.new("L", (20, 20), 90), "JPEG", (90, 90, 90)),
        ],
        ids=["png-16-bit-grey", "png-grey-alpha", "png-1-bit", "jpeg-cmyk", "jpeg-grey"],
    )
    def test_other_colour_modes_are_converted_faithfully(
        self, auth_client, settings, image, fmt, expected
    ):
        settings.IMAGE_OUTPUT_FORMAT = "JPEG"

        response = post_image(auth_client, encode(image, fmt))

        assert response.status_code == 201, response.content
        stored = reopen(Image.objects.get())
        assert stored.mode == "RGB"
        assert close_to(stored.getpixel((10, 10)), expected, tolerance=12)


# --- Refused uploads ------------------------------------------------------------------------------


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

    def test_the_service_checks_the_size_itself(self, user, settings):
        settings.IMAGE_MAX_UPLOAD_BYTES = 10
        with pytest.raises(ApplicationError) as raised:
            image_create(owner=user, file=upload("a.png", encode(picture(), "PNG")))
        assert (raised.value.code, raised.value.status_code) == ("file_too_large", 413)
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

    def test_a_failed_database_write_removes_the_stored_file(self, user, settings, monkeypatch):
        def fail(*args, **kwargs):
            raise IntegrityError("simulated")

        monkeypatch.setattr(Image, "save", fail)

        with pytest.raises(IntegrityError):
            image_create(owner=user, file=upload("a.png", encode(picture(), "PNG")))

        assert stored_files(settings) == []


class RecordingUploadHandler(MemoryFileUploadHandler):
    """Counts the bytes that reach Django's own handlers."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        type(self).received += len(raw_data)
        return super().receive_data_chunk(raw_data, start)


# --- Listing and deleting -------------------------------------------------------------------------


class TestList:
    def test_the_list_holds_only_the_callers_images_newest_first(self, auth_client, user):
        mine = ImageFactory.create_batch(3, owner=user)
        ImageFactory.create_batch(2)  # someone else's

        response = auth_client.get(URL)

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 3
        assert [item["id"] for item in body["results"]] == [image.pk for image in reversed(mine)]
        first = body["results"][0]
        assert set(first) == IMAGE_KEYS
        assert first["url"] == f"http://testserver/media/{mine[-1].file.name}"
        assert (first["width"], first["height"], first["format"]) == (64, 48, "webp")
        assert first["size"] == mine[-1].size > 0

    def test_an_upload_appears_in_the_uploaders_list_only(self, auth_client, user):
        created = post_image(auth_client, encode(picture(), "PNG")).json()

        assert auth_client.get(URL).json()["results"] == [created]
        other = client_for(UserFactory())
        assert other.get(URL).json()["results"] == []

    def test_the_list_is_paginated(self, auth_client, user):
        ImageFactory.create_batch(3, owner=user)

        body = auth_client.get(URL, {"page_size": 2, "page": 2}).json()

        assert body["count"] == 3
        assert len(body["results"]) == 1
        assert body["next"] is None
        assert body["previous"]

    def test_the_list_runs_the_same_number_of_queries_for_1_and_15_images(
        self, auth_client, user, django_assert_max_num_queries
    ):
        auth_client.get(URL)  # the first request also checks the session; later ones hit a cache
        counts = []
        for total in (1, 15):
            Image.objects.all().delete()
            ImageFactory.create_batch(total, owner=user)
            with django_assert_max_num_queries(3) as captured:
                response = auth_client.get(URL)
            assert len(response.json()["results"]) == total
            counts.append(len(captured))
        assert counts[0] == counts[1]


class TestDelete:
    def test_the_owner_deletes_an_image_and_its_file_leaves_the_storage(
        self, auth_client, user, settings
    ):
        image = ImageFactory(owner=user)
        kept = ImageFactory(owner=user)
        assert stored_files(settings) == sorted([image.file.name, kept.file.name])

        response = auth_client.delete(detail_url(image.pk))

        assert response.status_code == 204
        assert response.content == b""
        assert list(Image.objects.all()) == [kept]
        assert stored_files(settings) == [kept.file.name]

    @pytest.mark.parametrize("who", ["other_user", "staff"])
    def test_someone_elses_image_is_404_and_stays(self, user, staff, settings, who):
        image = ImageFactory(owner=user)
        caller = staff if who == "staff" else UserFactory()

        response = client_for(caller).delete(detail_url(image.pk))

        assert_error_envelope(response, 404, "not_found")
        assert Image.objects.filter(pk=image.pk).exists()
        assert stored_files(settings) == [image.file.name]

    def test_an_unknown_or_already_deleted_id_is_404(self, auth_client, user):
        image = ImageFactory(owner=user)
        assert auth_client.delete(detail_url(image.pk)).status_code == 204

        assert_error_envelope(auth_client.delete(detail_url(image.pk)), 404, "not_found")
        assert_error_envelope(auth_client.delete(detail_url(999999)), 404, "not_found")

    def test_the_file_is_removed_only_after_the_deletion_commits(
        self, user, settings, django_capture_on_commit_callbacks
    ):
        image = ImageFactory(owner=user)

        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            image_delete(image=image)
            raise RuntimeError("rolled back")

        assert callbacks == []
        assert Image.objects.filter(pk=image.pk).exists()
        assert stored_files(settings) == [image.file.name]


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_callers_are_401(api_client, db, settings, method):
    image = ImageFactory()
    path = detail_url(image.pk) if method == "delete" else URL

    response = getattr(api_client, method)(path)

    assert_error_envelope(response, 401, "not_authenticated")
    assert list(Image.objects.all()) == [image]
    assert stored_files(settings) == [image.file.name]


def test_the_schema_documents_the_multipart_upload_and_the_errors():
    schema = SchemaGenerator().get_schema(public=True)
    validate_schema(schema)

    create = schema["paths"]["/api/images/"]["post"]
    multipart = create["requestBody"]["content"]["multipart/form-data"]["schema"]
    component = multipart["$ref"].rsplit("/", 1)[-1]
    file_schema = schema["components"]["schemas"][component]["properties"]["file"]
    assert (file_schema["type"], file_schema["format"]) == ("string", "binary")
    assert {"201", "400", "401", "413"} <= set(create["responses"])
    listing = schema["paths"]["/api/images/"]["get"]["responses"]["200"]
    page = listing["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert {"count", "next", "previous", "results"} <= set(
        schema["components"]["schemas"][page]["properties"]
    )
    delete = schema["paths"]["/api/images/{image_id}/"]["delete"]
    assert {"204", "401", "404"} <= set(delete["responses"])

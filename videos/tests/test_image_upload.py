"""Accepted image uploads: judged by content, re-encoded in the configured format without
metadata, turned upright and fitted into the box; the body, the database and the storage after."""

import io

import pytest
from PIL import ExifTags
from PIL import Image as PILImage

from videos.models import Image
from videos.tests.images import (
    BLUE,
    IMAGE_KEYS,
    RED,
    close_to,
    encode,
    halves,
    mpo,
    picture,
    post_image,
    reopen,
    stored_bytes,
    stored_files,
    swapped_primaries_icc,
    with_metadata,
)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


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

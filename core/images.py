"""Uploaded images judged by content and re-encoded from pixels only (avatars, thumbnails).

An upload is accepted when Pillow reads it as PNG, JPEG or WebP, whatever its name or the
client's Content-Type say. It is turned upright (EXIF orientation), converted to sRGB, shrunk
into a box and re-encoded from bare pixels, so no EXIF, GPS, ICC, XMP or comment survives.
Shared by every app that stores pictures (videos' Image, courses' thumbnails).

Memory: the pixel count is checked from the header (IMAGE_MAX_PIXELS), and again for what is
decoded at once (IMAGE_MAX_DECODED_PIXELS): a JPEG is decoded reduced towards the box, a PNG or
WebP whole, so a small, highly compressed PNG cannot unpack into hundreds of megabytes.
The views that take images also count each upload against the uploader's rate
(core.throttles.ImageUploadThrottle).

Settings: IMAGE_MAX_UPLOAD_BYTES, IMAGE_MAX_PIXELS, IMAGE_MAX_DECODED_PIXELS, IMAGE_MAX_BOX,
IMAGE_OUTPUT_FORMAT ("WEBP" or "JPEG") and IMAGE_OUTPUT_QUALITY.
"""

import contextlib
import io
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps
from rest_framework.parsers import MultiPartParser

from core.errors import FileTooLarge, InvalidImage
from core.exceptions import ApplicationError

# The only Pillow plugins tried on an upload: anything else (GIF, BMP, TIFF, SVG, ...) is not
# recognised at all, and the other decoders stay out of an attacker's reach. A camera JPEG
# carrying extra pictures (MPF) comes out of the JPEG plugin as "MPO"; only its first is kept.
OPEN_FORMATS = ("PNG", "JPEG", "WEBP")
OUTPUT_FORMATS = {"WEBP": ("webp", "webp"), "JPEG": ("jpeg", "jpg")}  # format, extension
SRGB = ImageCms.createProfile("sRGB")


def image_max_upload_bytes() -> int:
    return getattr(settings, "IMAGE_MAX_UPLOAD_BYTES", 5 * 1024 * 1024)


def image_max_pixels() -> int:
    # 50 megapixels decode to ~200 MB as RGBA (PNG, WebP); JPEGs are decoded already reduced.
    return getattr(settings, "IMAGE_MAX_PIXELS", 50_000_000)


def image_max_decoded_pixels() -> int:
    return getattr(settings, "IMAGE_MAX_DECODED_PIXELS", 16_000_000)


def image_max_box() -> int:
    return getattr(settings, "IMAGE_MAX_BOX", 1600)


def image_output_format() -> str:
    output = str(getattr(settings, "IMAGE_OUTPUT_FORMAT", "WEBP")).upper()
    if output not in OUTPUT_FORMATS:
        raise ImproperlyConfigured("IMAGE_OUTPUT_FORMAT must be WEBP or JPEG.")
    return output


def image_output_quality() -> int:
    return getattr(settings, "IMAGE_OUTPUT_QUALITY", 85)


# --- Errors ---------------------------------------------------------------------------------------


def image_too_large() -> FileTooLarge:
    return FileTooLarge(
        _("Images may be at most %(size)s."), size=filesizeformat(image_max_upload_bytes())
    )


def not_an_image() -> InvalidImage:
    return InvalidImage()


def damaged_image() -> InvalidImage:
    return InvalidImage(_("The image is damaged or incomplete."))


def too_many_pixels(limit: int | None = None) -> InvalidImage:
    limit = image_max_pixels() if limit is None else limit
    return InvalidImage(
        _("The image has too many pixels; at most %(megapixels)s megapixels are accepted."),
        megapixels=f"{limit / 1_000_000:g}",
    )


# --- Decoding and re-encoding ---------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedImage:
    content: bytes
    width: int
    height: int
    format: str  # "webp" or "jpeg"
    extension: str


def _pixels_check(size: tuple[int, int], limit: int) -> None:
    width, height = size
    if width * height > limit:
        raise too_many_pixels(limit)


def _image_decode(*, file: UploadedFile) -> PILImage.Image:
    """Open, verify, then reopen and decode: verify() leaves an image unusable, and only a full
    decode finds truncated JPEG and WebP data. The pixel counts are checked from the header,
    before any pixel is decoded: the image's, and what will be decoded at once (a JPEG's reduced
    size, any other format's whole size); Pillow's own decompression-bomb guard stays on as a
    second line."""
    file.seek(0)
    try:
        with PILImage.open(file, formats=OPEN_FORMATS) as probe:
            detected, size = probe.format, probe.size
            _pixels_check(size, image_max_pixels())
            probe.verify()
    except ApplicationError:
        raise
    except PILImage.UnidentifiedImageError:
        raise not_an_image() from None
    except PILImage.DecompressionBombError:
        raise too_many_pixels() from None
    except Exception:  # Pillow raises many types (OSError, SyntaxError, struct.error, ...)
        raise damaged_image() from None

    file.seek(0)
    try:
        image = PILImage.open(file, formats=OPEN_FORMATS)
        if (image.format, image.size) != (detected, size):
            raise damaged_image()  # the upload changed between reads: refuse it
        box = image_max_box()
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale: never smaller than the box.
        image.draft(None, (box, box))
        _pixels_check(image.size, image_max_decoded_pixels())
        image.load()
    except ApplicationError:
        raise
    except Exception:
        raise damaged_image() from None
    return image


def _to_srgb(image: PILImage.Image) -> PILImage.Image:
    """Pixels in an embedded colour profile (Display P3, Adobe RGB, CMYK) are converted to sRGB
    before the profile is dropped, so colours do not shift; an unreadable or unsuitable profile is
    ignored (the pixels are then taken as sRGB)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(image, source, SRGB, outputMode=output_mode)
        return cast(PILImage.Image, converted)  # None only when converting in place
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image


def _to_rgb(image: PILImage.Image) -> PILImage.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit grey: scale, do not clip to white
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "RGBA" or (image.mode != "RGB" and image.has_transparency_data):
        return image if image.mode == "RGBA" else image.convert("RGBA")
    return image if image.mode == "RGB" else image.convert("RGB")


def _upright(image: PILImage.Image) -> PILImage.Image:
    # In place: an upright image (most are) is not copied, which would double the peak memory.
    # A broken EXIF block is dropped anyway; the pixels are still good.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)
    return image


def image_encode(*, file: UploadedFile) -> EncodedImage:
    """Check `file` by content and re-encode it: upright, sRGB, within IMAGE_MAX_BOX (never
    upscaled), IMAGE_OUTPUT_FORMAT, no metadata. Raises 400 `invalid_image` / 413
    `file_too_large`."""
    if file.size is None or file.size > image_max_upload_bytes():  # uploads always have a size
        raise image_too_large()
    output = image_output_format()
    image = _to_rgb(_to_srgb(_upright(_image_decode(file=file))))
    box = image_max_box()
    image.thumbnail((box, box), PILImage.Resampling.LANCZOS)
    if output == "JPEG" and image.mode == "RGBA":
        background = PILImage.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    # A fresh image holds the pixels and nothing else: encoders copy some of `info` (a JPEG
    # comment, for one) from the image they are given.
    bare = PILImage.new(image.mode, image.size)
    bare.paste(image)
    buffer = io.BytesIO()
    if output == "WEBP":
        bare.save(buffer, format="WEBP", quality=image_output_quality(), method=4)
    else:
        bare.save(
            buffer, format="JPEG", quality=image_output_quality(), optimize=True, progressive=True
        )
    format_name, extension = OUTPUT_FORMATS[output]
    return EncodedImage(
        content=buffer.getvalue(),
        width=bare.width,
        height=bare.height,
        format=format_name,
        extension=extension,
    )


# --- Uploads --------------------------------------------------------------------------------------


class _UploadLimitHandler(FileUploadHandler):
    """Counts file bytes as they arrive and stops reading one chunk past the limit, so an
    oversized upload is refused (413) without being spooled to disk first."""

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise image_too_large()
        return raw_data

    def file_complete(self, file_size):
        return None  # the handlers after this one build the uploaded file


class ImageUploadParser(MultiPartParser):
    """multipart/form-data whose files together may hold at most IMAGE_MAX_UPLOAD_BYTES."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        request.upload_handlers.insert(0, _UploadLimitHandler(limit=image_max_upload_bytes()))
        return super().parse(stream, media_type, parser_context)

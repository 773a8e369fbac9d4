"""Images built in memory for the image tests, and what the storage holds afterwards."""

import io
import random
import struct
import zlib
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, ImageCms
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from videos.models import Image

URL = "/api/images/"
IMAGE_KEYS = {"id", "url", "width", "height", "format", "size", "created_at"}
RED, BLUE = (220, 20, 20), (20, 20, 220)


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
    params: dict[str, Any] = {
        "exif": camera_exif(orientation),
        "icc_profile": SRGB_ICC if icc else None,
    }
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
    assert image.file.name
    with default_storage.open(image.file.name) as stored:
        opened = PILImage.open(io.BytesIO(stored.read()))
        opened.load()
        return opened


def stored_bytes(image: Image) -> bytes:
    assert image.file.name
    with default_storage.open(image.file.name) as stored:
        return stored.read()


def close_to(actual, expected, tolerance=40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))

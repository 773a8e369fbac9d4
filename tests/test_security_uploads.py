"""Upload polyglots and hostile file names: a file that is two things at once (an image that is
also HTML, a ZIP or PHP; an MP4 that is also a page; a PDF that is also a ZIP) is refused, or
stored so that the second thing cannot run: images are re-encoded (the stored bytes are read
back and hold none of the payload), every stored name is random or sanitised with a safe
extension, and what is served says a safe Content-Type.

File names are sent in hand-made multipart bodies: Django's test client would strip the
directory parts itself, hiding what the server does with them.
"""

import io
import mimetypes
import re
import uuid
import zipfile

import pytest
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

from core.testing import assert_error_envelope
from courses.models import Course, Submission
from tests.security_cases import MP4, db_rows
from videos.models import Image, Video

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert('polyglot')</script>"
HTML = b"<!DOCTYPE html><html><body>" + SCRIPT + b"</body></html>"
PHP = b"<?php system($_GET['c']); ?>"
PAYLOAD_MARKERS = (b"<script", b"alert(", b"<?php", b"<html", b"PK\x03\x04", b"polyglot")
# What a stored name may be served as (nginx and browsers go by the extension).
SAFE_TYPES = {
    "image/webp",
    "image/jpeg",
    "image/png",
    "video/mp4",
    "application/pdf",
    "application/zip",
    "text/plain",
    "text/markdown",
    "text/x-python",
    None,  # unknown: nginx sends application/octet-stream
}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", HTML)
        archive.writestr("shell.php", PHP)
    return buffer.getvalue()


def _picture(fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    image = PILImage.new("RGB", (16, 12), (200, 30, 30))
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Comment", PHP.decode())
    info.add_itxt("Description", HTML.decode())
    return _picture("PNG", pnginfo=info)


def _jpeg_with_exif_html() -> bytes:
    exif = PILImage.Exif()
    exif[0x010E] = HTML.decode()  # ImageDescription
    exif[0x9286] = SCRIPT.decode()  # UserComment
    return _picture("JPEG", exif=exif.tobytes(), comment=SCRIPT)


def _gif_with_html_comment() -> bytes:
    return _picture("GIF", comment=HTML)


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    + SCRIPT
    + b'<rect width="10" height="10"/></svg>'
)
# name: (bytes, True when a re-encoding image endpoint may store it, False when it must refuse).
IMAGE_POLYGLOTS = {
    "jpeg-then-html": (_picture("JPEG") + HTML, True),
    "jpeg-then-zip": (_picture("JPEG") + _zip(), True),
    "jpeg-with-html-in-exif-and-comment": (_jpeg_with_exif_html(), True),
    "png-with-php-in-text-chunks": (_png_with_text(), True),
    "png-then-php-after-iend": (_picture("PNG") + PHP, True),
    "webp-then-html": (_picture("WEBP") + HTML, True),
    "gif-header-then-html": (b"GIF89a" + HTML, False),
    "gif-with-html-comment": (_gif_with_html_comment(), False),
    "gif-then-zip-gifar": (_gif_with_html_comment() + _zip(), False),
    "png-magic-then-html": (b"\x89PNG\r\n\x1a\n" + HTML, False),
    "jpeg-magic-then-html": (b"\xff\xd8\xff\xe0" + HTML, False),
    "svg-with-script": (SVG, False),
    "html": (HTML, False),
    "zip": (_zip(), False),
}
# Names as the attacker sends them; the content is always a good PNG.
HOSTILE_NAMES = {
    "parent-dirs": "../../../../evil.png",
    "windows-parent-dirs": "..\\..\\..\\evil.png",
    "absolute": "/etc/cron.d/evil.png",
    "nul-before-extension": "evil.php\x00.png",
    "very-long": "e" * 250 + ".png",
    "longer-than-a-multipart-header-may-be": "e" * 1100 + ".png",
    "rtl-override": "evil\u202egnp.php",
    "php": "evil.php",
    "html": "evil.html",
    "double-extension": "evil.png.php",
    "only-dots": "...",
    "hangul-and-emoji": "악성😀.png",
}


def _multipart(files: dict, fields: dict | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body with file names exactly as given: {field: (name, bytes)}."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (fields or {}).items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    for field, (filename, content) in files.items():
        header = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(header.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _upload(client, method: str, path: str, filename: str, content: bytes, **fields):
    body, content_type = _multipart({"file": (filename, content)}, fields)
    return client.generic(method, path, body, content_type=content_type)


def _assert_clean_stored_image(fieldfile, url: str) -> None:
    """Re-encoded: a WebP under a random name, none of the payload left in its bytes."""
    name = fieldfile.name
    assert re.fullmatch(r"(images/\d{4}/\d{2}|thumbnails)/[A-Za-z0-9_-]{20,}\.webp", name), name
    with fieldfile.open("rb") as stored:
        data = stored.read()
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP", data[:16]
    for marker in PAYLOAD_MARKERS:
        assert marker not in data, marker
    assert mimetypes.guess_type(url)[0] == "image/webp"


def _assert_safe_name(name: str) -> None:
    assert ".." not in name and "\x00" not in name and "\u202e" not in name, name
    assert not name.startswith("/")
    assert mimetypes.guess_type(name)[0] in SAFE_TYPES, name


def _refused_for_its_header(response, name: str, before: dict) -> bool:
    """Django's multipart parser refuses a part header over 1 KiB: 400, nothing stored."""
    if len(name) < 1000:
        return False
    assert_error_envelope(response, 400, "parse_error")
    assert db_rows() == before
    return True


# --- POST /api/images/ (avatars use these) and PUT /api/courses/{id}/thumbnail/ -----------------


@pytest.mark.parametrize(
    ("content", "storable"), IMAGE_POLYGLOTS.values(), ids=IMAGE_POLYGLOTS.keys()
)
def test_an_image_polyglot_is_refused_or_stored_re_encoded_without_its_payload(
    world, content, storable
):
    before = db_rows()
    response = _upload(world.client("attacker"), "POST", "/api/images/", "x.png", content)
    if not storable:
        assert_error_envelope(response, 400, "invalid_image")
        assert db_rows() == before
        return
    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["id"])
    assert image.owner_id == world.attacker.pk
    _assert_clean_stored_image(image.file, response.json()["url"])


THUMBNAIL_CASES = [
    "jpeg-then-html",
    "png-with-php-in-text-chunks",
    "jpeg-with-html-in-exif-and-comment",
    "svg-with-script",
    "gif-then-zip-gifar",
    "html",
]


@pytest.mark.parametrize("case", THUMBNAIL_CASES)
def test_a_thumbnail_polyglot_is_refused_or_stored_re_encoded_without_its_payload(world, case):
    content, storable = IMAGE_POLYGLOTS[case]
    before = db_rows()
    path = world.path("/api/courses/{course}/thumbnail/")
    response = _upload(world.client("tutor"), "PUT", path, "thumb.png", content)
    if not storable:
        assert_error_envelope(response, 400, "invalid_image")
        assert db_rows() == before
        return
    assert response.status_code == 200, response.content
    course = Course.objects.get(pk=world.ids["course"])
    _assert_clean_stored_image(course.thumbnail, response.json()["thumbnail"])


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_an_image_is_stored_under_a_random_name_whatever_name_it_was_sent_with(world, name):
    before = db_rows()
    response = _upload(world.client("attacker"), "POST", "/api/images/", name, _picture("PNG"))
    if _refused_for_its_header(response, name, before):
        return
    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["id"])
    _assert_clean_stored_image(image.file, response.json()["url"])
    for part in ("evil", "php", "html", "etc", "cron", "악성"):
        assert part not in image.file.name


def test_a_polyglot_chosen_as_avatar_is_shown_as_its_clean_re_encoding(world):
    content, _storable = IMAGE_POLYGLOTS["jpeg-then-html"]
    client = world.client("attacker")
    upload = _upload(client, "POST", "/api/images/", "me.html", content)
    assert upload.status_code == 201, upload.content
    response = client.patch("/api/users/me/", {"avatar": upload.json()["id"]}, format="json")
    assert response.status_code == 200, response.content
    avatar = response.json()["avatar"]
    _assert_clean_stored_image(Image.objects.get(pk=avatar["id"]).file, avatar["url"])


# --- POST /api/videos/ and what streaming serves ------------------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


VIDEO_POLYGLOTS = {
    "ftyp-then-html": (_box(b"ftyp", b"isom\x00\x00\x02\x00isom") + HTML, False),
    "mp4-then-raw-html": (MP4 + HTML, False),
    "mp4-then-a-free-box-of-html": (MP4 + _box(b"free", HTML), True),
    "html": (HTML, False),
    "zip": (_zip(), False),
    "gif-then-zip": (_gif_with_html_comment() + _zip(), False),
    "pdf": (b"%PDF-1.4\n" + HTML, False),
}


@pytest.mark.parametrize(
    ("content", "storable"), VIDEO_POLYGLOTS.values(), ids=VIDEO_POLYGLOTS.keys()
)
def test_a_video_polyglot_is_refused_or_stored_and_streamed_only_as_video(world, content, storable):
    before = db_rows()
    response = _upload(world.client("rival"), "POST", "/api/videos/", "x.mp4", content, title="T")
    if not storable:
        assert_error_envelope(response, 400, "invalid_video")
        assert db_rows() == before
        return
    assert response.status_code == 201, response.content
    video = Video.objects.get(pk=response.json()["id"])
    assert re.fullmatch(r"videos/\d{4}/\d{2}/[0-9a-f]{32}\.mp4", video.file.name), video.file.name
    assert video.content_type == "video/mp4"
    stream = world.client("rival").get(f"/api/videos/{video.pk}/stream/")
    assert stream.status_code == 200
    assert stream["Content-Type"] == "video/mp4"
    assert stream["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_video_is_stored_under_a_random_name_whatever_name_it_was_sent_with(world, name):
    before = db_rows()
    response = _upload(world.client("rival"), "POST", "/api/videos/", name, MP4, title="T")
    if _refused_for_its_header(response, name, before):
        return
    assert response.status_code == 201, response.content
    stored = Video.objects.get(pk=response.json()["id"]).file.name
    assert re.fullmatch(r"videos/\d{4}/\d{2}/[0-9a-f]{32}\.mp4", stored), stored


# --- POST /api/topics/{id}/submissions/ ---------------------------------------------------------


def _pdf_zip() -> bytes:
    """A PDF whose tail is a whole ZIP archive: PDF readers and unzip both accept it."""
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + _zip()


# (file name, bytes, whether it may be stored)
SUBMISSIONS = {
    "pdf-zip-polyglot-as-pdf": ("work.pdf", _pdf_zip(), True),
    "pdf-zip-polyglot-as-zip": ("work.zip", _pdf_zip(), False),
    "html-as-html": ("work.html", HTML, False),
    "html-as-htm": ("work.htm", HTML, False),
    "svg-as-svg": ("work.svg", SVG, False),
    "svg-as-png": ("work.png", SVG, False),
    "html-as-png": ("work.png", b"\x89PNG\r\n\x1a\n" + HTML, False),
    "gif-as-jpg": ("work.jpg", _gif_with_html_comment(), False),
    "php": ("work.php", PHP, False),
    "javascript": ("work.js", SCRIPT, False),
    "double-extension-ending-in-php": ("work.txt.php", PHP, False),
    "rtl-override-hiding-php": ("work\u202etxt.php", PHP, False),
    "html-as-txt": ("work.txt", HTML, True),
    "jpeg-then-html-as-jpg": ("work.jpg", _picture("JPEG") + HTML, True),
    "php-named-double-extension-txt": ("shell.php.txt", PHP, True),
    "parent-dirs": ("../../../../etc/work.txt", b"text", True),
    "windows-parent-dirs": ("..\\..\\..\\work.txt", b"text", True),
    "nul-before-extension": ("work.php\x00.txt", b"text", True),
    "rtl-override-in-a-txt": ("evil\u202egnp.txt", b"text", True),
    "very-long": ("w" * 180 + ".txt", b"text", True),
    "too-long-for-the-field": ("w" * 300 + ".txt", b"text", False),
}


@pytest.mark.parametrize(
    ("filename", "content", "storable"), SUBMISSIONS.values(), ids=SUBMISSIONS.keys()
)
def test_an_assignment_file_is_refused_or_stored_under_a_safe_name_and_extension(
    world, filename, content, storable
):
    client = world.client("classmate")
    path = world.path("/api/topics/{assignment}/submissions/")
    before = db_rows()
    response = _upload(client, "POST", path, filename, content, text="My work")
    if not storable:
        error = assert_error_envelope(response, 400)
        assert "file" in error["fields"], error
        assert db_rows() == before
        return
    assert response.status_code == 201, response.content
    stored = Submission.objects.get(pk=response.json()["id"]).file.name
    assert re.fullmatch(r"submissions/\d{4}/\d{2}/[0-9a-f]{16}/[^/]+", stored), stored
    _assert_safe_name(stored)
    extension = filename.rsplit(".", 1)[1]
    assert stored.endswith(f".{extension}")

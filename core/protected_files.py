"""Responses for files in the protected storage (lecture videos, assignment files), sent only
after the caller's access was checked. When PROTECTED_ACCEL_REDIRECT_PREFIX is set they are
handed to nginx through X-Accel-Redirect: a file on disk by its name, a file on the object store
by a presigned URL, which nginx fetches for the client without being able to sign one itself.
Otherwise an object store's file is a redirect to a short-lived presigned URL, and a file on disk
is streamed by Django with HTTP byte ranges (RFC 9110 section 14)."""

import posixpath
import re
import unicodedata
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.http import (
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter

from core.exceptions import error_body
from core.storage import presigned_url, signs_urls

CHUNK_BYTES = 256 * 1024
# The request header every protected-file operation honours, for their schemas.
RANGE_HEADER = OpenApiParameter(
    "Range", str, OpenApiParameter.HEADER, description="e.g. `bytes=0-1048575`"
)
# ASCII digits only (`\d` would take any Unicode digit), and no more of them than a file size
# can have: a longer number is past any end, so it is never handed to int().
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.ASCII)
MAX_POSITION_DIGITS = 18
BEYOND_ANY_FILE = 10**MAX_POSITION_DIGITS


class RangeNotSatisfiable(Exception):
    pass


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= MAX_POSITION_DIGITS else BEYOND_ANY_FILE


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single range, None to send everything; multiple ranges and
    malformed headers are ignored, as the RFC allows."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        length = _position(last)
        if length == 0:
            raise RangeNotSatisfiable
        return max(size - length, 0), size - 1
    start = _position(first)
    if start >= size:
        raise RangeNotSatisfiable
    if last and _position(last) < start:
        return None
    end = min(_position(last), size - 1) if last else size - 1
    return start, end


def accel_redirect_uri(name: str) -> str:
    """The internal URI nginx serves `name` from. Percent-encoded: nginx decodes it before it
    maps it to a file, while a raw non-ASCII name would leave Django MIME-encoded, and a raw `?`
    or `#` would cut the path short."""
    return settings.PROTECTED_ACCEL_REDIRECT_PREFIX + quote(name, safe="/")


def accel_redirect_store_uri(url: str) -> str:
    """The internal URI through which nginx fetches a presigned URL: its path (the bucket's
    when path-style) and signed query after the prefix, whose location proxies the store's
    origin. Kept percent-encoded as signed: nginx decodes the path and encodes it back alike
    (stored names hold no character the two encodings differ on), and passes the query as is."""
    parts = urlsplit(url)
    return f"{settings.PROTECTED_ACCEL_REDIRECT_PREFIX}{parts.path.lstrip('/')}?{parts.query}"


def download_filename(name: str) -> str:
    """The base name of a stored file, fit for a Content-Disposition: no folders, no control or
    invisible formatting characters (a right-to-left override could disguise the extension)."""
    base = posixpath.basename(name.replace("\\", "/"))
    cleaned = "".join(
        char for char in base if unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp")
    ).strip(" .")
    return cleaned or "download"


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._ -]", "_", text)


def content_disposition(filename: str) -> str:
    """`attachment` with the exact name in UTF-8 (RFC 8187) and a plain ASCII one for clients
    that know no better (RFC 6266): accents dropped, anything but letters, digits and `._ -`
    replaced, the extension kept."""
    stem, dot, extension = filename.rpartition(".")
    if not dot:
        stem, extension = filename, ""
    fallback = _ascii(stem).strip(" ._-") or "download"
    if _ascii(extension):
        fallback += "." + _ascii(extension)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _read(fieldfile, start: int, length: int) -> Iterator[bytes]:
    with fieldfile.open("rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _not_found() -> JsonResponse:
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def protected_file_response(
    *,
    fieldfile,
    content_type: str,
    range_header: str | None,
    size: int | None = None,
    download_name: str | None = None,
) -> HttpResponseBase:
    """200 with the whole file, 206 with the asked range, or 416; nginx serves it when
    PROTECTED_ACCEL_REDIRECT_PREFIX is set (it then handles Range itself), the object store when
    the storage presigns URLs (302 to one). `download_name` makes it an attachment under that
    name. `size` spares a stat of the file when known."""
    response: HttpResponseBase
    if signs_urls(fieldfile.storage):
        # Signing is local: the store is reached only by whoever fetches the URL (nginx, or
        # the client), who also asks it for the Range; the store answers with these headers.
        headers = {"Content-Type": content_type}
        if download_name is not None:
            headers["Content-Disposition"] = content_disposition(download_name)
        if settings.PROTECTED_ACCEL_REDIRECT_PREFIX:
            url = presigned_url(fieldfile.storage, fieldfile.name, response_headers=headers)
            response = HttpResponse()
            # nginx would keep this response's type and disposition even on an error it
            # answers instead of the store; nginx adds Cache-Control.
            del response["Content-Type"]
            response["X-Accel-Redirect"] = accel_redirect_store_uri(url)
            response["X-Accel-Buffering"] = "no"
            return response
        headers["Cache-Control"] = "private, no-store"
        response = HttpResponseRedirect(
            presigned_url(fieldfile.storage, fieldfile.name, response_headers=headers)
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
    if settings.PROTECTED_ACCEL_REDIRECT_PREFIX:
        # nginx adds Cache-Control in its internal location and answers Range.
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel_redirect_uri(fieldfile.name)
        response["X-Accel-Buffering"] = "no"
    else:
        if size is None:
            try:
                size = fieldfile.size
            except OSError:  # the row names a file that is gone
                return _not_found()
        response = _streamed(fieldfile, size, content_type, range_header)
        response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    if download_name is not None and response.status_code in (200, 206):
        response["Content-Disposition"] = content_disposition(download_name)
    return response


def _streamed(
    fieldfile, size: int, content_type: str, range_header: str | None
) -> HttpResponseBase:
    try:
        wanted = byte_range(range_header, size)
    except RangeNotSatisfiable:
        refused = JsonResponse(
            error_body("range_not_satisfiable", _("The requested range is outside the file.")),
            status=416,
        )
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    start, end = wanted if wanted else (0, size - 1)
    response = StreamingHttpResponse(
        _read(fieldfile, start, end - start + 1),
        status=206 if wanted else 200,
        content_type=content_type,
    )
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response

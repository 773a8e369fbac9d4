"""HTTP byte ranges (RFC 9110 section 14) for protected files, or handing them to nginx."""

import re
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _

from core.exceptions import error_body

CHUNK_BYTES = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single range, None to send everything; multiple ranges and
    malformed headers are ignored, as the RFC allows."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiable
    if last and int(last) < start:
        return None
    return start, end


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


def stream_file(*, fieldfile, size: int, content_type: str, range_header: str | None):
    """200 with the whole file, 206 with the asked range, or 416; nginx serves it when
    VIDEO_ACCEL_REDIRECT_PREFIX is set (it then handles Range itself)."""
    if settings.VIDEO_ACCEL_REDIRECT_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.VIDEO_ACCEL_REDIRECT_PREFIX + fieldfile.name
        response["X-Accel-Buffering"] = "no"
        return response
    try:
        wanted = byte_range(range_header, size)
    except RangeNotSatisfiable:
        response = JsonResponse(
            error_body("range_not_satisfiable", _("The requested range is outside the file.")),
            status=416,
        )
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
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
    response["Cache-Control"] = "private, no-store"
    return response

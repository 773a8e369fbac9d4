"""One id per request, to find all of a request's log lines (and its Sentry event) from the id a
client saw in the `X-Request-ID` response header.

nginx sends its own `$request_id`; a value that does not look like an id (too long, other
characters: a forged header meant to split or spoof log lines) is replaced by a fresh one, as is
a missing header. The id lives in a context variable for the request's duration, and
`RequestIdLogFilter` stamps it on every log record (`-` outside a request).
"""

import contextvars
import logging
import re
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
NO_REQUEST_ID = "-"
# nginx's $request_id is 32 hex digits; other proxies use UUIDs or dotted ids.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

_current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default=NO_REQUEST_ID
)


def request_id_get() -> str:
    """The id of the request being served, or `-` outside one."""
    return _current_request_id.get()


def request_id_from_header(value: str | None) -> str:
    """The client's (or nginx's) id when it is a sane one, else a new uuid4 hex."""
    if value and VALID_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so every response carries the header: errors, redirects and the
    envelope 404 of unknown /api/ paths included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.META.get("HTTP_X_REQUEST_ID"))
        token = _current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to every record that passes the handler it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current_request_id.get()
        return True

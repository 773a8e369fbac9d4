"""Error reporting to Sentry, switched on by SENTRY_DSN (config/settings/base.py): unhandled
errors (500s) and ERROR log records become events; answers a client caused (4xx) never do.

Nothing personal or secret leaves: no user data, cookies or IPs (`send_default_pii=False`), no
request bodies (they carry passwords, refresh tokens and payment tokens) and no local variables
of the stack frames. Each event is tagged with the request id the client saw in `X-Request-ID`.
"""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.types import Event, Hint

from core.request_id import NO_REQUEST_ID, request_id_get


def sentry_init(*, dsn: str, environment: str, release: str | None) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        include_local_variables=False,
        before_send=event_filter,
    )


def client_error_status(exception: BaseException) -> int | None:
    """The 4xx status an exception answers with, None when it is a server error (or unknown)."""
    # Imported here: settings import this module before the apps (and DRF's settings) are ready.
    from django.core.exceptions import PermissionDenied, SuspiciousOperation
    from django.http import Http404
    from rest_framework.exceptions import APIException

    from core.exceptions import ApplicationError

    if isinstance(exception, ApplicationError):
        status = exception.status
    elif isinstance(exception, APIException):
        status = exception.status_code
    elif isinstance(exception, Http404):
        status = 404
    elif isinstance(exception, PermissionDenied):
        status = 403
    elif isinstance(exception, SuspiciousOperation):  # DisallowedHost, a forged session...
        status = 400
    else:
        return None
    return status if 400 <= status < 500 else None


def event_filter(event: Event, hint: Hint) -> Event | None:
    """Drops events of client errors; tags the others with the request id."""
    exc_info = hint.get("exc_info")
    if exc_info and client_error_status(exc_info[1]) is not None:
        return None
    log_record = hint.get("log_record")
    status_code = getattr(log_record, "status_code", None)
    if isinstance(status_code, int) and 400 <= status_code < 500:
        return None  # django.security.* and django.request log some 4xx at ERROR
    request_id = request_id_get()
    if request_id != NO_REQUEST_ID:
        event.setdefault("tags", {})["request_id"] = request_id
    return event

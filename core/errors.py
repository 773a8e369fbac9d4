"""The rules core enforces for every app: body size, images, Idempotency-Key, the database and
the file storage."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import (
    DATABASE_RETRY_AFTER_SECONDS,
    SERVICE_UNAVAILABLE_MESSAGE,
    ApplicationError,
)

# Seconds a client should wait before retrying while the object store is unreachable.
STORAGE_RETRY_AFTER_SECONDS = 5


class RequestTooLarge(ApplicationError):
    code = "request_too_large"
    status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    message = _("The request body is too large.")


class BadRequest(ApplicationError):
    """What Django calls a SuspiciousOperation (a malformed multipart body, say)."""

    code = "bad_request"
    message = _("The request was malformed.")


class ServiceUnavailable(ApplicationError):
    """The database is down or restarting: retrying after Retry-After may work."""

    code = "service_unavailable"
    status = status.HTTP_503_SERVICE_UNAVAILABLE
    message = SERVICE_UNAVAILABLE_MESSAGE

    def __init__(self):
        super().__init__(headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


class StorageUnavailable(ApplicationError):
    """The object store (S3_BUCKET) cannot be reached or fails: nothing was stored, and retrying
    after Retry-After may work."""

    code = "storage_unavailable"
    status = status.HTTP_503_SERVICE_UNAVAILABLE
    message = _("File storage is temporarily unavailable. Retry shortly.")

    def __init__(self):
        super().__init__(headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)})


class InvalidImage(ApplicationError):
    """Not a PNG, JPEG or WebP by content, damaged, or too many pixels (the message says which)."""

    code = "invalid_image"
    message = _("Upload a PNG, JPEG or WebP image.")
    field = "file"


class FileTooLarge(ApplicationError):
    code = "file_too_large"
    status = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    message = _("Files may be at most %(size)s.")
    field = "file"


class InvalidIdempotencyKey(ApplicationError):
    code = "invalid_idempotency_key"
    message = _("Idempotency-Key must be 1 to 255 characters.")

    def __init__(self):
        super().__init__(fields={"Idempotency-Key": [_("Must be 1 to 255 characters.")]})


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status = status.HTTP_409_CONFLICT
    message = _("This Idempotency-Key was used with a different request.")


class IdempotencyRequestInProgress(ApplicationError):
    code = "idempotency_request_in_progress"
    status = status.HTTP_409_CONFLICT
    message = _("A request with this Idempotency-Key is still running. Retry shortly.")


IDEMPOTENCY_ERRORS = (InvalidIdempotencyKey, IdempotencyKeyReused, IdempotencyRequestInProgress)


# --- The framework's own codes, for rules that answer with them -------------------------------
# An app's rule that is a case of one of these subclasses it (accounts' SessionNotFound is a
# NotFound with its own message), so a code still has one family.


class NotAuthenticated(ApplicationError):
    code = "not_authenticated"
    status = status.HTTP_401_UNAUTHORIZED
    message = _("Authentication credentials were not provided.")


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = status.HTTP_403_FORBIDDEN
    message = _("You do not have permission to perform this action.")


class NotFound(ApplicationError):
    code = "not_found"
    status = status.HTTP_404_NOT_FOUND
    message = _("Not found.")


class RangeNotSatisfiable(ApplicationError):
    """A `Range` past the end of a protected file (core.protected_files answers it, with
    `Content-Range: bytes */size`): assignment files and lecture videos alike."""

    code = "range_not_satisfiable"
    status = status.HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE
    message = _("The requested range is outside the file.")

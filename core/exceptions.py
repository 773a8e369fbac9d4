"""The one error envelope: {"error": {"code", "message", "fields"}} for every failure.

Domain code raises ApplicationError; DRF's exceptions and Django's ValidationError, Http404,
PermissionDenied and oversized bodies are converted here so that no bad input becomes a 500, nor
does an unreachable database or object store (503).
"""

import logging
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A rule was broken. Each rule is a subclass in its app's `errors.py` that sets `code` (a
    stable snake_case string a frontend switches on), `status` and a default `message`:

        class AlreadyVoted(ApplicationError):
            code = "already_voted"
            status = 409
            message = _("You have already voted in this poll.")

    `raise AlreadyVoted()` uses the default; `raise NotEligible(_("Another part's poll."))` says
    more; `raise FileTooLarge(size="5 MB")` fills the placeholders of the default. Views list the
    classes they may raise (`core.openapi.errors_of`), so the schema knows each operation's codes.
    """

    code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = status.HTTP_400_BAD_REQUEST
    message: Any = _("The request cannot be processed.")
    # The input field the rule is about, if one: the message is also given as its field error.
    field: ClassVar[str | None] = None

    def __init__(
        self,
        message: Any = None,
        *,
        fields: dict | None = None,
        headers: dict | None = None,
        **placeholders: Any,
    ):
        text = type(self).message if message is None else message
        self.message = text % placeholders if placeholders else text
        if fields is None and self.field:
            fields = {self.field: [str(self.message)]}
        self.fields = fields or {}
        self.headers = headers or {}
        super().__init__(str(self.message))

    @property
    def status_code(self) -> int:
        return self.status


def error_body(code: str, message: Any, fields: dict | None = None) -> dict:
    # Messages become plain strings now, in the request's language: lazy ones would fail to
    # serialise wherever the body is stored as JSON (core.idempotency keeps it for replays).
    fields = {
        str(field): [str(text) for text in messages] for field, messages in (fields or {}).items()
    }
    return {"error": {"code": code, "message": str(message), "fields": fields}}


# Seconds a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5


SERVICE_UNAVAILABLE_MESSAGE = _("The service is temporarily unavailable. Retry shortly.")


def database_unavailable_body() -> dict:
    return error_body("service_unavailable", SERVICE_UNAVAILABLE_MESSAGE)


def _flatten_errors(detail: Any, path: str, into: dict) -> None:
    """Nested serializer errors become one level: {"lectures[1].topics[0].type": ["..."]}."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            key = str(key)
            child = f"{path}[{key}]" if key.isdigit() else (f"{path}.{key}" if path else key)
            _flatten_errors(value, child, into)
    elif isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        for index, item in enumerate(detail):
            if item:
                _flatten_errors(item, f"{path}[{index}]", into)
    else:
        messages = detail if isinstance(detail, list) else [detail]
        into.setdefault(path or "non_field_errors", []).extend(str(m) for m in messages)


def _validation_fields(detail: Any) -> dict:
    fields: dict[str, list[str]] = {}
    _flatten_errors(detail, "", fields)
    return fields


def _django_validation_fields(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {
            "non_field_errors" if field == "__all__" else field: messages
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": exc.messages}


def _api_exception_code(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict) and "code" in detail:
        return str(detail["code"])
    code = getattr(detail, "code", None)
    return str(code or exc.default_code)


def _api_exception_message(exc: exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return str(detail.get("detail", exc.default_detail))
    if isinstance(detail, list):
        return str(detail[0]) if detail else str(exc.default_detail)
    return str(detail)


class _Enveloped(exceptions.APIException):
    """A rule (ApplicationError) carried through DRF's handler for its rollback."""

    def __init__(self, error: ApplicationError):
        super().__init__(detail=str(error.message), code=error.code)
        self.status_code = error.status
        self.envelope = error_body(error.code, error.message, error.fields)
        self.extra_headers = error.headers


def _as_rule(exc: Exception) -> Exception:
    """Django's errors that have a rule of core's (core.errors) become that rule."""
    from core import errors  # core.errors subclasses this module's ApplicationError
    from core.storage import is_store_unavailable

    if isinstance(exc, RequestDataTooBig):
        return errors.RequestTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return errors.BadRequest()
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is down or restarting (or a deadlock was broken): retrying may work.
        logger.warning("Database unavailable: %s", exc)
        return errors.ServiceUnavailable()
    if is_store_unavailable(exc):
        logger.warning("File storage unavailable: %s", exc)
        return errors.StorageUnavailable()
    return exc


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    exc = _as_rule(exc)
    if isinstance(exc, ApplicationError):
        return _Enveloped(exc)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(_django_validation_fields(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()  # not Http404's own text, which may name a model
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        return exc
    return None


def _envelope_of(exc: exceptions.APIException) -> dict:
    if isinstance(exc, _Enveloped):
        return exc.envelope
    if isinstance(exc, exceptions.ValidationError):
        return error_body(
            "validation_error", _("Some fields are invalid."), _validation_fields(exc.detail)
        )
    if isinstance(exc, exceptions.Throttled):
        wait = exc.wait  # type: ignore[attr-defined]  # drf-stubs leave out Throttled.wait
        message = _("Too many requests. Try again in %(seconds)d seconds.") % {"seconds": wait or 1}
        return error_body("throttled", message)
    return error_body(_api_exception_code(exc), _api_exception_message(exc))


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's own handler answers (status, WWW-Authenticate, Retry-After, rollback); this one
    converts what DRF does not know into its exceptions first and reshapes the body after."""
    # Imported here: authentication classes import this module while rest_framework.views loads.
    from rest_framework.views import exception_handler as drf_exception_handler

    api_exception = _as_api_exception(exc)
    if api_exception is None:
        return None
    response = drf_exception_handler(api_exception, context)
    if response is None:  # DRF answers every APIException
        return None
    response.data = _envelope_of(api_exception)
    for header, value in getattr(api_exception, "extra_headers", {}).items():  # a rule's own
        response[header] = value
    return response

"""The one error envelope: {"error": {"code", "message", "fields"}} for every failure.

Domain code raises ApplicationError; DRF's exceptions and Django's ValidationError, Http404,
PermissionDenied and oversized bodies are converted here so that no bad input becomes a 500.
"""

import logging
from typing import Any

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
    """A rule of the domain was broken; `code` is a stable string the frontend can switch on."""

    def __init__(
        self,
        code: str,
        message: Any,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        fields: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.status_code = status_code
        self.fields = fields or {}
        self.headers = headers or {}


def error_body(code: str, message: Any, fields: dict | None = None) -> dict:
    # Messages become plain strings now, in the request's language: lazy ones would fail to
    # serialise wherever the body is stored as JSON (core.idempotency keeps it for replays).
    fields = {
        str(field): [str(text) for text in messages] for field, messages in (fields or {}).items()
    }
    return {"error": {"code": code, "message": str(message), "fields": fields}}


# Seconds a client should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable_body() -> dict:
    return error_body(
        "service_unavailable", _("The service is temporarily unavailable. Retry shortly.")
    )


def error_response(
    code: str,
    message: Any,
    status_code: int,
    fields: dict | None = None,
    headers: dict | None = None,
) -> Response:
    return Response(error_body(code, message, fields), status=status_code, headers=headers)


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


def exception_handler(exc: Exception, context: dict) -> Response | None:
    # Imported here: authentication classes import this module while rest_framework.views loads.
    from rest_framework.views import set_rollback

    if isinstance(exc, ApplicationError):
        set_rollback()
        return error_response(exc.code, exc.message, exc.status_code, exc.fields, exc.headers)

    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_fields(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return error_response(
            "request_too_large",
            _("The request body is too large."),
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, SuspiciousOperation):
        return error_response("bad_request", _("The request was malformed."), 400)
    elif isinstance(exc, (OperationalError, InterfaceError)):
        # The database is down or restarting (or a deadlock was broken): retrying may work.
        logger.warning("Database unavailable: %s", exc)
        return Response(
            database_unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"

    set_rollback()
    if isinstance(exc, exceptions.ValidationError):
        return error_response(
            "validation_error",
            _("Some fields are invalid."),
            exc.status_code,
            _validation_fields(exc.detail),
            headers,
        )
    if isinstance(exc, exceptions.Throttled):
        message = _("Too many requests. Try again in %(seconds)d seconds.") % {
            "seconds": exc.wait or 1
        }
        return error_response("throttled", message, exc.status_code, headers=headers)
    return error_response(
        _api_exception_code(exc), _api_exception_message(exc), exc.status_code, headers=headers
    )

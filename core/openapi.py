"""OpenAPI generation: each operation documents the error envelope for the statuses it returns,
with the codes it may answer at each as an `enum` (a typed client can switch on them).

An operation's codes are the framework's for the statuses that apply to it (validation, auth,
permissions, throttles...) and the rules it declares: `responses={201: Out, **errors_of(
AlreadyVoted, PollClosed)}`, plus those of decorators such as `core.idempotency.idempotent`.
"""

import re
from collections import defaultdict

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import Direction, OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, AllowAny

from core.errors import StorageUnavailable


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable snake_case code, e.g. `already_voted`.")
    message = serializers.CharField(help_text="Human text in the language of Accept-Language.")
    # DRF's metaclass moves declared fields off the class, so this never hides Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per-field messages; present (maybe empty) on 400.",
    )


ERROR_DESCRIPTIONS = {
    "400": "Invalid input: `fields` names each invalid field.",
    "401": (
        "No or bad credentials; `token_expired`: a well-signed access token past its expiry "
        "(refresh, then retry)."
    ),
    "403": "Authenticated but not allowed.",
    "404": "No such object, or not yours.",
    "406": "The Accept header excludes JSON.",
    "413": "Request body too large.",
    "415": "Unsupported media type.",
    "429": "Throttled; see the Retry-After header.",
    "503": "The database is down or restarting; retry after Retry-After.",
}
NO_SUCH_PAGE = "no such page (`?page=` past the end, zero or not a number)"
PLACEHOLDER = re.compile(r"%\(\w+\)\w")
# The codes the framework answers with at each status (core.exceptions.exception_handler).
# An authentication class adds its own 401 codes as `error_codes`.
FRAMEWORK_CODES = {
    "400": ("validation_error", "parse_error", "bad_request"),
    "401": ("not_authenticated", "authentication_failed"),
    "403": ("permission_denied",),
    "404": ("not_found",),
    "406": ("not_acceptable",),
    "413": ("request_too_large",),
    "415": ("unsupported_media_type",),
    "429": ("throttled",),
    "503": ("service_unavailable",),
}


class ErrorResponse(OpenApiResponse):
    """The rules an operation may break at one status; made by `errors_of`."""

    def __init__(self, error_classes: tuple):
        self.error_classes = error_classes
        super().__init__(None)


def errors_of(*error_classes) -> dict[int, ErrorResponse]:
    """`@extend_schema(responses={200: Out, **errors_of(AlreadyVoted, PollClosed)})`."""
    by_status = defaultdict(list)
    for error_class in error_classes:
        by_status[error_class.status].append(error_class)
    return {status: ErrorResponse(tuple(classes)) for status, classes in by_status.items()}


class AutoSchema(SpectacularAutoSchema):
    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        """`LoginApi.InputSerializer` becomes `LoginInput`: nested names stay unique."""
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        serializer_class = serializer if isinstance(serializer, type) else type(serializer)
        outer, _, inner = serializer_class.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer and inner.removesuffix("Serializer") in name:
            return outer.removesuffix("Api") + name
        return name

    def _error_statuses(self) -> list[str]:
        statuses = []
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += ["400", "413", "415"]
        elif self._is_list_view() or self._has_query_parameters():
            statuses.append("400")
        if self.view.authentication_classes:
            statuses.append("401")  # a bad token is refused even where anonymous is welcome
        if not all(self._lets_anyone_in(p) for p in self.view.permission_classes):
            statuses.append("403")
        if "{" in self.path or self._is_paginated_list():
            statuses.append("404")
        statuses.append("406")  # DRF's content negotiation, before any view code
        # A throttle may count some methods only (core.throttles.UserWriteThrottle).
        throttles = getattr(self.view, "throttle_classes", None) or ()
        if any(
            self.method in getattr(throttle, "methods", (self.method,)) for throttle in throttles
        ):
            statuses.append("429")
        statuses.append("503")  # core.exceptions: a database error is never a 500
        return statuses

    def _has_query_parameters(self) -> bool:
        return any(parameter["in"] == "query" for parameter in self._get_parameters())

    def _is_paginated_list(self) -> bool:
        """DRF's paginator answers 404 for a page that does not exist."""
        return self._is_list_view() and self._get_paginator() is not None

    def _error_description(self, status_code: str) -> str:
        if status_code == "404" and self._is_paginated_list():
            if "{" in self.path:
                return f"No such object, or not yours; or {NO_SUCH_PAGE}."
            return f"`not_found`: {NO_SUCH_PAGE}."
        return ERROR_DESCRIPTIONS[status_code]

    def _lets_anyone_in(self, permission_class) -> bool:
        if issubclass(permission_class, AllowAny):
            return True
        return self.method in SAFE_METHODS and getattr(
            permission_class, "allows_anonymous_reads", False
        )

    def _decorator_errors(self) -> tuple:
        """Rules a decorator of the view method adds (core.idempotency.idempotent), and 503
        `storage_unavailable` for uploads: their files go to the object store (S3_BUCKET)."""
        view_method = getattr(self.view, self.method.lower(), None)
        rules = tuple(getattr(view_method, "error_classes", ()))
        if self.method in ("POST", "PUT", "PATCH") and "multipart/form-data" in self.map_parsers():
            rules += (StorageUnavailable,)
        return rules

    def _error_body(self, status_code: str, declared: tuple, direction: Direction) -> dict:
        """The envelope with `code` narrowed to the operation's codes at this status: the
        framework's where they apply, then the declared and decorator-added rules."""
        decorated = (rule for rule in self._decorator_errors() if str(rule.status) == status_code)
        rules = (*declared, *decorated)
        framework = status_code in self._error_statuses()
        codes = list(FRAMEWORK_CODES[status_code]) if framework else []
        if framework and status_code == "401":
            for authentication_class in self.view.authentication_classes:
                codes += getattr(authentication_class, "error_codes", ())
        codes += [rule.code for rule in rules if rule.code not in codes]
        lines = [self._error_description(status_code)] if framework else []
        lines += [f"`{rule.code}`: {PLACEHOLDER.sub('…', str(rule.message))}" for rule in rules]
        schema = {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "allOf": [
                        self.resolve_serializer(ErrorSerializer, direction).ref,
                        {"type": "object", "properties": {"code": {"enum": codes}}},
                    ]
                }
            },
        }
        response = OpenApiResponse(schema, description="\n\n".join(lines))
        return super()._get_response_for_code(response, status_code, direction=direction)

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        if isinstance(serializer, ErrorResponse):
            return self._error_body(status_code, serializer.error_classes, direction)
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        decorated = [str(rule.status) for rule in self._decorator_errors()]
        for status_code in [*self._error_statuses(), *decorated]:
            if status_code not in responses:
                responses[status_code] = self._error_body(status_code, (), direction)
        return dict(sorted(responses.items()))


# Answers with validators (courses.catalogue_cache, votes.results_cache): pass to extend_schema as
# `parameters=[*CONDITIONAL_GET_PARAMETERS]` and `responses={200: ..., **NOT_MODIFIED}`.
CONDITIONAL_GET_PARAMETERS = (
    OpenApiParameter(
        "If-None-Match",
        str,
        OpenApiParameter.HEADER,
        description="An `ETag` received before: 304 with no body while the answer is the same.",
    ),
    OpenApiParameter(
        "ETag",
        str,
        OpenApiParameter.HEADER,
        response=[200, 304],
        description="Strong validator of the body; `Cache-Control: no-cache` asks to revalidate.",
    ),
)
NOT_MODIFIED = {304: OpenApiResponse(description="Not modified: the `ETag` sent still matches.")}

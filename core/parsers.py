"""JSON parsing with the same size limit Django applies to form bodies."""

import io

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers, status

from core.exceptions import ApplicationError


class JSONParser(parsers.JSONParser):
    """DRF reads JSON from the raw stream, bypassing DATA_UPLOAD_MAX_MEMORY_SIZE: enforce it here,
    reading at most one byte past the limit whatever Content-Length claims."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise ApplicationError(
                "request_too_large",
                _("The request body is too large."),
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)

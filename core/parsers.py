"""JSON parsing with the same size limit Django applies to form bodies, and no ambiguity."""

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from core.errors import RequestTooLarge


def _refuse_duplicate_keys(pairs: list[tuple]) -> dict:
    """Parsers disagree about which of two equal keys wins (a proxy may read the first, Python
    keeps the last), so a body that says both is refused."""
    document = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"duplicate key {key[:50]!r}")
        document[key] = value
    return document


class JSONParser(parsers.JSONParser):
    """DRF reads JSON from the raw stream, bypassing DATA_UPLOAD_MAX_MEMORY_SIZE: enforce it here,
    reading at most one byte past the limit whatever Content-Length claims. Nesting too deep for
    the parser and repeated keys are a 400 `parse_error`, never a crash or a silent choice."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(body) > limit:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json.loads(
                body.decode(encoding),
                object_pairs_hook=_refuse_duplicate_keys,
                parse_constant=strict_constant if self.strict else None,
            )
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"JSON parse error - {str(exc)[:200]}") from exc

"""DRF's JSONRenderer encoding with orjson: the bytes DRF writes for what our views return
(compact, UTF-8, U+2028 and U+2029 escaped; dates, decimals and lazy strings through DRF's own
encoder), in a fraction of its time (bench/profile_requests.py). A pretty-printed answer
(`Accept: application/json; indent=4`) is DRF's own."""

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

# Datetimes, dates and times go to DRF's encoder (orjson's own format keeps microseconds and
# "+00:00"); integer keys become strings, as json.dumps makes them.
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_LINE_SEPARATOR, _PARAGRAPH_SEPARATOR = "\u2028".encode(), "\u2029".encode()


class JSONRenderer(renderers.JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        body = orjson.dumps(data, default=JSONEncoder().default, option=_OPTIONS)
        # As DRF does: JSON that is also a strict JavaScript subset.
        if _LINE_SEPARATOR in body or _PARAGRAPH_SEPARATOR in body:
            body = body.replace(_LINE_SEPARATOR, b"\\u2028")
            body = body.replace(_PARAGRAPH_SEPARATOR, b"\\u2029")
        return body

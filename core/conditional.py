"""JSON answers with a strong ETag: a client (or any cache between) that sends it back in
If-None-Match gets 304 and no body while the answer is the same. For answers read alike by many
(the catalogue, poll results), made in the view, so that the body is rendered and hashed once."""

import hashlib

from django.http import HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control

from core.renderers import JSONRenderer


def rendered(data) -> tuple[bytes, str]:
    """The JSON body DRF would render for `data`, and its ETag."""
    body = JSONRenderer().render(data)
    return body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def json_response(request, body: bytes, etag: str) -> HttpResponse:
    """200 with `body`, or 304 if the request's If-None-Match names `etag`; either way any cache
    may keep it and must ask again before using it (`Cache-Control: no-cache`)."""
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    patch_cache_control(response, no_cache=True)
    return response

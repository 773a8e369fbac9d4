"""One rule for every URL a response gives to a file (an image, an avatar, a thumbnail, an
assignment download): absolute, on PUBLIC_BASE_URL when set, else on the request's host; a URL
the storage already makes absolute (S3, a CDN in MEDIA_URL) is kept as it is."""

from urllib.parse import urlsplit

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def public_url(url: str, request=None) -> str:
    """`url` (a path such as /media/x.webp, or already absolute) made absolute. Without
    PUBLIC_BASE_URL and without a request it stays relative: there is no host to name."""
    if urlsplit(url).scheme:
        return url
    base = settings.PUBLIC_BASE_URL
    if base:
        return base.rstrip("/") + "/" + url.lstrip("/")
    if request is not None:
        return request.build_absolute_uri(url)
    return url


def file_public_url(fieldfile, request=None) -> str | None:
    """The public URL of a stored file (FieldFile), None when the field is empty."""
    if not fieldfile:
        return None
    return public_url(fieldfile.url, request)


@extend_schema_field(OpenApiTypes.URI)
class PublicFileUrlField(serializers.Field):
    """A read-only file field rendered as its absolute public URL, or null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        # Django's FieldFile is falsy when empty; keep it so to_representation gives null.
        return super().get_attribute(instance) or None

    def to_representation(self, value):
        return file_public_url(value, self.context.get("request"))

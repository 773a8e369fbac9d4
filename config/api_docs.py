"""The OpenAPI schema, Swagger UI and Redoc, served from this project (drf-spectacular-sidecar:
they work offline and no CDN script ever runs on the API's origin).

Who may read them is API_DOCS_PUBLIC: anyone (development default), or staff only (production
default), signed in to the admin (session cookie) or with a bearer token."""

from collections.abc import Sequence

from django.conf import settings
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.authentication import BaseAuthentication, SessionAuthentication
from rest_framework.permissions import AllowAny, IsAdminUser

from accounts.auth.authentication import SessionJWTAuthentication


class DocsAccess:
    authentication_classes: Sequence[type[BaseAuthentication]] = (
        SessionJWTAuthentication,
        SessionAuthentication,
    )

    def get_permissions(self):
        # Decided per request, so that the setting (and a test's override) always counts.
        return [AllowAny() if settings.API_DOCS_PUBLIC else IsAdminUser()]


class SchemaApi(DocsAccess, SpectacularAPIView):
    pass


class SwaggerApi(DocsAccess, SpectacularSwaggerSplitView):
    pass


class RedocApi(DocsAccess, SpectacularRedocView):
    # Without the stock template's Google Fonts: nothing leaves this origin.
    template_name = "api_docs/redoc.html"

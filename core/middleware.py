"""The database or the object store down (or restarting) is a 503 that says so, not a 500:
clients and nginx retry; and every response carries a Content-Security-Policy."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from core.errors import STORAGE_RETRY_AFTER_SECONDS, StorageUnavailable
from core.exceptions import DATABASE_RETRY_AFTER_SECONDS, database_unavailable_body, error_body
from core.storage import is_store_unavailable

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """For views outside DRF (admin, Django's own); DRF views get the same from the exception
    handler."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.warning("Database unavailable: %s", exception)
            body, retry_after = database_unavailable_body(), DATABASE_RETRY_AFTER_SECONDS
        elif is_store_unavailable(exception):
            logger.warning("File storage unavailable: %s", exception)
            rule = StorageUnavailable()
            body, retry_after = error_body(rule.code, rule.message), STORAGE_RETRY_AFTER_SECONDS
        else:
            return None
        response: HttpResponse
        if request.path.startswith("/api/"):
            response = JsonResponse(body, status=503)
        else:
            response = HttpResponse(
                "Service temporarily unavailable.", status=503, content_type="text/plain"
            )
        response["Retry-After"] = str(retry_after)
        return response


class ContentSecurityPolicyMiddleware:
    """A Content-Security-Policy on every response that has none: pages (admin, API docs, the
    sandbox checkout) may load scripts only from this origin; anything else (JSON, files) may
    load nothing and be framed by nobody."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            is_page = response.get("Content-Type", "").startswith("text/html")
            response["Content-Security-Policy"] = (
                settings.CONTENT_SECURITY_POLICY_PAGES
                if is_page
                else settings.CONTENT_SECURITY_POLICY_OTHER
            )
        return response

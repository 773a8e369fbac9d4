"""The database or the object store down (or restarting) is a 503 that says so, not a 500:
clients and nginx retry; every response carries a Content-Security-Policy; and the JSON API
skips what only pages need."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers

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


# --- What pages need and the JSON API does not ---------------------------------------------------
# DRF authenticates every /api/ request itself (tokens, accounts.auth) and no API view keeps a
# session or a message; those three middleware cost an API request time and nothing else. The API
# docs are pages under /api/ that staff open signed in to the admin (config.api_docs), so they
# keep them.
API_PAGES = ("/api/schema/", "/api/docs/", "/api/redoc/")


def _is_json_api(path: str) -> bool:
    return path.startswith("/api/") and not path.startswith(API_PAGES)


class _PagesOnly:
    get_response: Callable

    def __call__(self, request):
        if _is_json_api(request.path_info):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(_PagesOnly, sessions.SessionMiddleware):
    pass


class AuthenticationMiddleware(_PagesOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(_PagesOnly, messages.MessageMiddleware):
    pass


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's, less what `i18n_patterns` need (this project has none; a test keeps it so):
    Django's looks for a language at the start of every path twice per request, and a path like
    /api/... is not one, which it learns through an exception each time. The language comes from
    the cookie or Accept-Language; the response says which it is and that it varies by the
    header, as Django's does."""

    def process_request(self, request):
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

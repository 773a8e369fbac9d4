"""JSON error pages for /api/ paths that never reach a DRF view (unknown URL, crash)."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

from core.exceptions import error_body


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(error_body("server_error", _("Something went wrong.")), status=500)
    return defaults.server_error(request)


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse(error_body("bad_request", _("The request was malformed.")), status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse(
            error_body("permission_denied", _("You do not have permission.")), status=403
        )
    return defaults.permission_denied(request, exception)

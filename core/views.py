"""JSON error pages for /api/ paths that never reach a DRF view (unknown URL, crash)."""

from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import error_body

API_PATHS = r"^api(?:/.*)?\Z"


def _is_api(request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """The last URL pattern: every /api path no other pattern takes, whatever the method and
    DEBUG (Django's debug 404 page and APPEND_SLASH's HTML redirect never answer an API call)."""
    slashed = f"{request.path_info}/"
    if not request.path_info.endswith("/") and _served(slashed):
        message = _("Not found. API paths end with a slash: %(path)s") % {"path": slashed}
    else:
        message = _("Not found.")
    return JsonResponse(error_body("not_found", message), status=404)


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


def _served(path: str) -> bool:
    try:
        return resolve(path).func is not api_not_found
    except Resolver404:
        return False

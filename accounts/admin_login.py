"""The admin's login form, throttled like the API's: per client network and per account.

It shares the API login's counters (scopes `login_ip` and `login_account`, the account keyed by
its canonical email), so a guesser gains nothing by alternating between the two forms. A refused
attempt never reaches the password hasher."""

import math
from types import SimpleNamespace

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.forms.utils import ErrorDict
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.throttles import LoginAccountThrottle, LoginIpThrottle


class AdminLoginAccountThrottle(LoginAccountThrottle):
    field = "username"  # the admin form's name for the email


def _wait_seconds(request) -> int | None:
    """None if the attempt may go on, else how long to wait; records the attempt."""
    form_request = SimpleNamespace(data=request.POST, META=request.META, headers=request.headers)
    waits = []
    for throttle in (LoginIpThrottle(), AdminLoginAccountThrottle()):
        if not throttle.allow_request(form_request, None):
            waits.append(throttle.wait() or 1)
    return math.ceil(max(waits)) if waits else None


@never_cache
def admin_login(request, extra_context=None):
    if request.method == "POST":
        wait = _wait_seconds(request)
        if wait is not None:
            return _refused(request, wait)
    return admin.site.login(request, extra_context)


def _refused(request, wait: int) -> TemplateResponse:
    form = AdminAuthenticationForm(request)
    message = _("Too many login attempts. Try again in %(seconds)d seconds.") % {"seconds": wait}
    form._errors = ErrorDict({"__all__": form.error_class([message])})  # shown, never validated
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.POST.get("username", ""),
        "form": form,
    }
    response = TemplateResponse(request, "admin/login.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response

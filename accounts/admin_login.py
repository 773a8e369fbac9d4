"""The admin's login form, throttled like the API's: per client network and per account.

It shares the API login's counters (scopes `login_ip` and `login_account`, the account keyed by
its canonical email; accounts.auth.throttles.admin_login_wait_seconds), so a guesser gains nothing
by alternating between the two forms. A refused attempt never reaches the password hasher."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.auth.throttles import admin_login_wait_seconds


@never_cache
def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    if request.method == "POST":
        wait = admin_login_wait_seconds(request)
        if wait is not None:
            return _refused(request, wait)
    return admin.site.login(request, extra_context)


class _RefusedLoginForm(AdminAuthenticationForm):
    """The admin's login form showing only the refusal: unbound, so never validated."""

    def __init__(self, request: HttpRequest, message: str) -> None:
        super().__init__(request)
        self._errors = ErrorDict({"__all__": self.error_class([message])})


def _refused(request: HttpRequest, wait: int) -> TemplateResponse:
    message = _("Too many login attempts. Try again in %(seconds)d seconds.") % {"seconds": wait}
    form = _RefusedLoginForm(request, message)
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

"""Throttles for the credential endpoints: per client IP and per targeted account.

They run in DRF's `initial()`, before the view body, so a throttled login never reaches the
password hasher. The shared behaviour (rates from settings, failing open, IPv6 by /64) is
core.throttles.SettingsRateThrottle. The admin's login form counts against the same buckets as
the API's login (`admin_login_wait_seconds`).
"""

import math
from types import SimpleNamespace

import jwt

from accounts.auth.cookies import refresh_token_from_request
from accounts.identity import login_canonical
from core.throttles import SettingsRateThrottle


class IpThrottle(SettingsRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_key_for(self.get_ident(request))


class AccountThrottle(SettingsRateThrottle):
    """Counts attempts against one account, named by a field of the request body."""

    field = "login"

    def get_cache_key(self, request, view):
        data = request.data if hasattr(request.data, "get") else {}
        value = data.get(self.field)
        if not isinstance(value, str) or not value.strip():
            return None
        # Keyed by the account the value names, so a long s or capitals count against `sx`.
        return self.cache_key_for(login_canonical(value) or value.strip().casefold())


def _ip_throttle(scope_name: str) -> type[IpThrottle]:
    return type(
        f"{scope_name.title().replace('_', '')}Throttle", (IpThrottle,), {"scope": scope_name}
    )


LoginIpThrottle = _ip_throttle("login_ip")
RegisterIpThrottle = _ip_throttle("register_ip")
RefreshIpThrottle = _ip_throttle("refresh_ip")
PasswordResetIpThrottle = _ip_throttle("password_reset_ip")
AvailabilityIpThrottle = _ip_throttle("availability_ip")
SocialIpThrottle = _ip_throttle("social_ip")


class LoginAccountThrottle(AccountThrottle):
    scope = "login_account"
    field = "login"


class RegisterAccountThrottle(AccountThrottle):
    scope = "register_account"
    field = "email"


class PasswordResetAccountThrottle(AccountThrottle):
    scope = "password_reset_account"
    field = "email"


class RefreshSessionThrottle(SettingsRateThrottle):
    """Per session: the (unverified) `sid` claim of the submitted refresh token or cookie."""

    scope = "refresh_session"

    def get_cache_key(self, request, view):
        raw = refresh_token_from_request(request)
        if not raw:
            return None
        try:
            claims = jwt.decode(raw, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        session_id = claims.get("sid")
        return self.cache_key_for(str(session_id)) if session_id else None


class AdminLoginAccountThrottle(LoginAccountThrottle):
    field = "username"  # the admin form's name for the email


def admin_login_wait_seconds(request) -> int | None:
    """A POST of the admin's login form: None if the attempt may go on, else how many seconds
    to wait. Records the attempt, per client network and per account like the API's login."""
    form_request = SimpleNamespace(data=request.POST, META=request.META, headers=request.headers)
    waits = []
    for throttle in (LoginIpThrottle(), AdminLoginAccountThrottle()):
        if not throttle.allow_request(form_request, None):
            waits.append(throttle.wait() or 1)
    return math.ceil(max(waits)) if waits else None

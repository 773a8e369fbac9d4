"""Throttles for the credential endpoints: per client IP and per targeted account.

They run in DRF's `initial()`, before the view body, so a throttled login never reaches the
password hasher. Rates are read on every request so settings overrides take effect at once.
"""

import hashlib
import logging

import jwt
import redis
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.cookies import refresh_token_from_request
from accounts.identity import login_canonical
from core.client_ip import rate_limit_ident

logger = logging.getLogger(__name__)


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError):
            # Fail open: with the counters out of reach, refusing every login would lock everyone
            # out; nginx's limit_req and the Argon2 cost still slow a guesser down.
            logger.warning("throttle %s: cache unreachable, request allowed", self.scope)
            return True

    def get_ident(self, request) -> str:
        return rate_limit_ident(super().get_ident(request))

    def _key(self, ident: str) -> str:
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class IpThrottle(_SettingsRateThrottle):
    def get_cache_key(self, request, view):
        return self._key(self.get_ident(request))


class AccountThrottle(_SettingsRateThrottle):
    """Counts attempts against one account, named by a field of the request body."""

    field = "login"

    def get_cache_key(self, request, view):
        data = request.data if hasattr(request.data, "get") else {}
        value = data.get(self.field)
        if not isinstance(value, str) or not value.strip():
            return None
        # Keyed by the account the value names, so a long s or capitals count against `sx`.
        return self._key(login_canonical(value) or value.strip().casefold())


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


class RefreshSessionThrottle(_SettingsRateThrottle):
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
        return self._key(str(session_id)) if session_id else None

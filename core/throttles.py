"""Rate limits read from settings on every request (so overrides take effect at once), failing
open when the cache is out of reach, and counting IPv6 clients by their /64 (core.client_ip).

Some writes are limited per user (UserWriteThrottle): uploads, since every one costs a decode or
a probe and a stored file, so a burst of them could tie up workers and memory
(THROTTLE_IMAGE_UPLOAD, THROTTLE_VIDEO_UPLOAD), and, in other apps, writes that put something in
front of other people. Refusals are 429 `throttled` with Retry-After, in the error envelope."""

import hashlib
import logging

import redis
from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core.client_ip import rate_limit_ident

logger = logging.getLogger(__name__)


class SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        if self.scope is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a `scope`.")
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except (redis.RedisError, OSError):
            # Fail open: with the counters out of reach, refusing everyone would lock everyone
            # out; nginx's limit_req and the work's own limits (Argon2, sizes) still apply.
            logger.warning("throttle %s: cache unreachable, request allowed", self.scope)
            return True

    def get_ident(self, request) -> str:
        return rate_limit_ident(super().get_ident(request))

    # Not `key`: DRF stores each request's cache key in that attribute.
    def cache_key_for(self, ident: str) -> str:
        digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class UserWriteThrottle(SettingsRateThrottle):
    """Counts one user's requests of `methods` (or one client network's, when anonymous); the
    view's other methods (its listing) are not counted."""

    methods: tuple[str, ...] = ("POST",)

    def get_cache_key(self, request, view):
        if request.method not in self.methods:
            return None
        user = request.user
        ident = f"user:{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return self.cache_key_for(ident)


class UploadThrottle(UserWriteThrottle):
    methods = ("POST", "PUT")


class ImageUploadThrottle(UploadThrottle):
    scope = "image_upload"


class VideoUploadThrottle(UploadThrottle):
    scope = "video_upload"

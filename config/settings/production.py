"""Production: every secret from the environment, HTTPS only, a shared cache required."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    CACHES,
    SIMPLE_JWT,
    STORAGES,
    database_from_url,
    env,
    signing_keys_check,
    storage_deploy_check,
)

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": database_from_url(env("DATABASE_URL"))}
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY")
# Signs playback URLs that nginx checks (NGINX_MEDIA_SIGNING_KEY holds the same value).
MEDIA_SIGNING_KEY = env("MEDIA_SIGNING_KEY")
signing_keys_check(
    debug=DEBUG,
    secret_key=SECRET_KEY,
    jwt_signing_key=JWT_SIGNING_KEY,
    media_signing_key=MEDIA_SIGNING_KEY,
)
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY

# Throttles and token revocation must be seen by every worker: a per-process cache is refused.
_cache_backend = CACHES["default"]["BACKEND"]
if not _cache_backend.endswith(("RedisCache", "PyMemcacheCache", "PyLibMCCache")):
    raise ImproperlyConfigured(
        f"Production needs a shared cache (set REDIS_URL); {_cache_backend} is per-process."
    )

# Sockets on several processes and hosts must hear the same rooms: a per-process layer is refused.
if str(CHANNEL_LAYERS["default"]["BACKEND"]).endswith("InMemoryChannelLayer"):  # noqa: F405
    raise ImproperlyConfigured("Production needs a shared channel layer for chat (set REDIS_URL).")

# Tasks must go to the `worker` service through a broker, never run inside a request.
if CELERY_TASK_ALWAYS_EAGER:  # noqa: F405
    raise ImproperlyConfigured(
        "Production needs a Celery broker (set REDIS_URL or CELERY_BROKER_URL)."
    )

# The API's docs and schema: staff only unless the operator publishes them.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)

# One JSON object per log line, for the log collector.
LOGGING["handlers"]["console"]["formatter"] = env("LOG_FORMAT", default="json")  # noqa: F405

# Kakao access tokens are checked against the app id; without it they could come from any app.
if SOCIAL_AUTH_KAKAO_KEY and not SOCIAL_AUTH_KAKAO_APP_ID:  # noqa: F405
    raise ImproperlyConfigured("Kakao login (KAKAO_REST_API_KEY) needs KAKAO_APP_ID.")

# Payments: real providers only, with their secrets; callbacks to the public site.
PAYMENT_PROVIDERS = env.list("PAYMENT_PROVIDERS", default=["kakaopay"])
if "sandbox" in PAYMENT_PROVIDERS:
    raise ImproperlyConfigured("The sandbox payment provider is for development only.")
if "kakaopay" in PAYMENT_PROVIDERS:
    KAKAOPAY_SECRET_KEY = env("KAKAOPAY_SECRET_KEY")
PAYMENT_CALLBACK_BASE_URL = env("PAYMENT_CALLBACK_BASE_URL")
# Every file URL is absolute on it, also in payloads cached without a request (the avatar).
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL").rstrip("/")
# Uploads on S3: public URLs on a public host over HTTPS, protected files where nginx looks.
storage_deploy_check(
    storages=STORAGES,
    accel_prefix=PROTECTED_ACCEL_REDIRECT_PREFIX,  # noqa: F405
)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Opt-in (nginx follows the same variable): a preloaded domain takes months to leave the list.
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # The deploy check's advice to preload, declined on purpose until the operator opts in.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
AUTH_REFRESH_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
# Static files get their content's hash in their names (collectstatic writes the manifest), so
# nginx lets browsers cache them for a year and an upgrade still reaches every browser at once.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}

# Exactly one proxy (nginx) sits in front: its X-Forwarded-For entry is the client's IP.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("NUM_PROXIES", default=1)  # noqa: F405

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)

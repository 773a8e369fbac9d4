"""Settings shared by every environment; integrations switch on by environment variables."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.settings.environment import BASE_DIR, ENV_FILE, FRONTEND_URL, env  # noqa: F401

# Keys anyone can read (in this repository, its history or its docs): nothing served with DEBUG
# off may be signed with them, whatever the settings module.
PUBLIC_KEYS = frozenset(
    {
        "local-only-insecure-secret-key-change-me",
        "local-only-jwt-signing-key-change-me",
        "test-secret-key-not-for-production",
        "test-jwt-signing-key-with-enough-entropy-0123456789",
        "dummy-secret-key-for-the-deploy-check-0123456789-abcdefghijklmnop",
        "dummy-jwt-key-for-the-deploy-check-0123456789-abcdefghijklmnopq",
    }
)
SIGNING_KEY_MIN_LENGTH = 50


def signing_keys_check(
    *, debug: bool, secret_key: str, jwt_signing_key: str, media_signing_key: str | None = None
) -> None:
    """Refuse to serve without DEBUG on a key that is public, short or shared by two uses."""
    if debug:
        return
    keys = {"DJANGO_SECRET_KEY": secret_key, "JWT_SIGNING_KEY": jwt_signing_key}
    if media_signing_key is not None:
        keys["MEDIA_SIGNING_KEY"] = media_signing_key
    for name, key in keys.items():
        if key in PUBLIC_KEYS or "change-me" in key:
            raise ImproperlyConfigured(f"{name} is a published placeholder: set a random key.")
        if len(key) < SIGNING_KEY_MIN_LENGTH or len(set(key)) < 5:
            raise ImproperlyConfigured(
                f"{name} needs at least {SIGNING_KEY_MIN_LENGTH} random characters."
            )
    if len(set(keys.values())) < len(keys):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY, JWT_SIGNING_KEY and MEDIA_SIGNING_KEY must differ from each other."
        )


SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",  # for its message catalogues (ko among them)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from here, never from a CDN
    "channels",
    "social_django",
    "core",
    "accounts",
    "courses",
    "videos",
    "votes",
    "payments",
    "chat",
]

MIDDLEWARE = [
    # First: every response carries X-Request-ID and every log line of the request its id.
    "core.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Sessions, users and messages for pages only: the JSON API skips them (core.middleware).
    "core.middleware.SessionMiddleware",
    "core.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
]
# Pages (admin, API docs, sandbox checkout) run only this origin's scripts (the docs' Swagger UI
# and Redoc come from drf-spectacular-sidecar, not a CDN); inline styles are allowed, inline
# scripts never (in cookie mode a script could refresh and read tokens).
CONTENT_SECURITY_POLICY_PAGES = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
CONTENT_SECURITY_POLICY_OTHER = "default-src 'none'; frame-ancestors 'none'"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database and cache -------------------------------------------------------------------------


def database_from_url(url: str) -> dict:
    """One place for the connection policy, shared with production.py (which has no default)."""
    database = env.db_url_config(url)
    database["ATOMIC_REQUESTS"] = False
    database["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    database["CONN_HEALTH_CHECKS"] = True
    if database["ENGINE"].endswith("postgresql"):
        # A database that does not answer fails the request in seconds (503), never hangs it.
        database.setdefault("OPTIONS", {})["connect_timeout"] = env.int(
            "DATABASE_CONNECT_TIMEOUT", default=3
        )
    return database


DATABASES = {
    "default": database_from_url(
        env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Shared by every process: throttles and token revocation hold across workers and hosts.
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="lms"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Each process keeps its own copy of the hottest cache entries (the session check, poll results,
# catalogue pages) for at most this long; every change reaches every process at once over Redis
# pub/sub (core.near_cache): this bounds only what a lost message could cost. 0 turns it off.
NEAR_CACHE_SECONDS = env.float("NEAR_CACHE_SECONDS", default=1.0)

# --- Internationalisation -----------------------------------------------------------------------

LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Static, media, uploads, email --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# Scheme and host clients reach this API at (https://api.example.com): every file URL in a
# response is built on it, also where no request is at hand (the cached avatar). Empty: the
# request's own host, and a relative URL where there is no request. Uploads themselves (MEDIA_*,
# PROTECTED_MEDIA_ROOT, STORAGES: disk or S3) are config/settings/storage.py's.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="").rstrip("/")
# JSON bodies larger than this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="no-reply@localhost")


# --- Per concern ---------------------------------------------------------------------------------
# The knobs of each domain live in their own module (HackSoft's config/settings/*.py).

from config.settings.api import *  # noqa: E402, F403
from config.settings.auth import *  # noqa: E402, F403
from config.settings.chat import *  # noqa: E402, F403
from config.settings.commerce import *  # noqa: E402, F403
from config.settings.learning import *  # noqa: E402, F403
from config.settings.media import *  # noqa: E402, F403
from config.settings.observability import *  # noqa: E402, F403
from config.settings.retention import *  # noqa: E402, F403
from config.settings.storage import *  # noqa: E402, F403
from config.settings.tasks import *  # noqa: E402, F403

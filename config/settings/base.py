"""Settings shared by every environment; integrations switch on by environment variables."""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Untracked; `make run` keeps its generated keys there (config/settings/local.py).
ENV_FILE = Path(os.environ.get("DJANGO_ENV_FILE") or BASE_DIR / ".env")
environ.Env.read_env(ENV_FILE, overwrite=False)

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


def signing_keys_check(*, debug: bool, secret_key: str, jwt_signing_key: str) -> None:
    """Refuse to serve without DEBUG on a key that is public, short or shared by both uses."""
    if debug:
        return
    for name, key in (("DJANGO_SECRET_KEY", secret_key), ("JWT_SIGNING_KEY", jwt_signing_key)):
        if key in PUBLIC_KEYS or "change-me" in key:
            raise ImproperlyConfigured(f"{name} is a published placeholder: set a random key.")
        if len(key) < SIGNING_KEY_MIN_LENGTH or len(set(key)) < 5:
            raise ImproperlyConfigured(
                f"{name} needs at least {SIGNING_KEY_MIN_LENGTH} random characters."
            )
    if secret_key == jwt_signing_key:
        raise ImproperlyConfigured("JWT_SIGNING_KEY must differ from DJANGO_SECRET_KEY.")


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
    "social_django",
    "core",
    "accounts",
    "courses",
    "videos",
    "votes",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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

# --- Auth and passwords -------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.CustomUser"

AUTHENTICATION_BACKENDS = [
    "social_core.backends.google.GoogleOAuth2",
    "social_core.backends.kakao.KakaoOAuth2",
    "django.contrib.auth.backends.ModelBackend",
]

PASSWORD_HASHERS = [
    "accounts.hashers.TunedArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
# Argon2id cost, tuned to 50-150 ms per hash on a 2-core host (see bench/password_hashing.py).
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=3)
ARGON2_MEMORY_COST_KIB = env.int("ARGON2_MEMORY_COST_KIB", default=65536)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=2)

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60)
FRONTEND_URL = env("FRONTEND_URL", default="http://localhost:3000")
PASSWORD_RESET_URL = env(
    "PASSWORD_RESET_URL", default=FRONTEND_URL + "/password-reset?uid={uid}&token={token}"
)

# Tokens: a dedicated signing key (never SECRET_KEY), pinned algorithm, iss/aud checked.
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="")
ACCESS_TOKEN_LIFETIME = timedelta(seconds=env.int("ACCESS_TOKEN_LIFETIME_SECONDS", default=600))
REFRESH_TOKEN_LIFETIME = timedelta(
    seconds=env.int("REFRESH_TOKEN_LIFETIME_SECONDS", default=14 * 24 * 3600)
)
AUTH_SESSION_MAX_AGE = timedelta(
    seconds=env.int("AUTH_SESSION_MAX_AGE_SECONDS", default=30 * 24 * 3600)
)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": ACCESS_TOKEN_LIFETIME,
    "REFRESH_TOKEN_LIFETIME": REFRESH_TOKEN_LIFETIME,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "VERIFYING_KEY": "",
    "ISSUER": env("JWT_ISSUER", default="lms-api"),
    "AUDIENCE": env("JWT_AUDIENCE", default="lms-clients"),
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer", "JWT"),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "JTI_CLAIM": "jti",
    "AUTH_TOKEN_CLASSES": ("rest_framework_simplejwt.tokens.AccessToken",),
    "UPDATE_LAST_LOGIN": False,
}
# Set apart from the dict so the exemption covers one line: a claim name, not a password.
SIMPLE_JWT["TOKEN_TYPE_CLAIM"] = "token_type"  # noqa: S105  # nosec B105

# A cached "session is live" verdict is re-checked against the database after this many seconds:
# the bound on how long a logout made while Redis was unreachable can go unnoticed.
AUTH_LIVE_VERDICT_SECONDS = env.int("AUTH_LIVE_VERDICT_SECONDS", default=30)

# Optional cookie mode: the refresh token travels in an HttpOnly cookie instead of the body.
AUTH_REFRESH_COOKIE = env.bool("AUTH_REFRESH_COOKIE", default=False)
AUTH_REFRESH_COOKIE_NAME = env("AUTH_REFRESH_COOKIE_NAME", default="refresh_token")
AUTH_REFRESH_COOKIE_PATH = "/api/auth/"
AUTH_REFRESH_COOKIE_SAMESITE = env("AUTH_REFRESH_COOKIE_SAMESITE", default="Lax")
AUTH_REFRESH_COOKIE_SECURE = env.bool("AUTH_REFRESH_COOKIE_SECURE", default=True)

# --- Social login (social-auth-app-django) ------------------------------------------------------

SOCIAL_AUTH_JSONFIELD_ENABLED = True
SOCIAL_AUTH_USER_MODEL = AUTH_USER_MODEL
SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = env("GOOGLE_OAUTH2_KEY", default="")
SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = env("GOOGLE_OAUTH2_SECRET", default="")
SOCIAL_AUTH_GOOGLE_OAUTH2_SCOPE = ["openid", "email", "profile"]
SOCIAL_AUTH_KAKAO_KEY = env("KAKAO_REST_API_KEY", default="")
SOCIAL_AUTH_KAKAO_SECRET = env("KAKAO_CLIENT_SECRET", default="")
# Numeric app id: Kakao access tokens obtained by another app are refused when it is set.
SOCIAL_AUTH_KAKAO_APP_ID = env("KAKAO_APP_ID", default="")
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "accounts.social.associate_by_verified_email",
    "accounts.social.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
)
SOCIAL_AUTH_PROTECTED_USER_FIELDS = ["email", "username", "role", "is_staff", "is_superuser"]
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/"
SOCIAL_AUTH_URLOPEN_TIMEOUT = 10

# --- CORS ---------------------------------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = True
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_HEADERS = (
    "accept",
    "accept-language",
    "authorization",
    "content-type",
    "idempotency-key",
    "origin",
    "range",  # seeking in a protected video
    "user-agent",
    "x-requested-with",
)
# Response headers a frontend's script may read (the CORS-safelisted ones need no mention).
CORS_EXPOSE_HEADERS = [
    "Accept-Ranges",
    "Content-Language",
    "Content-Range",
    "Idempotent-Replayed",
    "Retry-After",
]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=CORS_ALLOWED_ORIGINS)

# --- REST framework and OpenAPI -----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("accounts.authentication.SessionJWTAuthentication",),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    # JSON everywhere; upload endpoints opt into MultiPartParser themselves.
    "DEFAULT_PARSER_CLASSES": ("core.parsers.JSONParser",),
    "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
    "DEFAULT_FILTER_BACKENDS": ("django_filters.rest_framework.DjangoFilterBackend",),
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env("THROTTLE_LOGIN_IP", default="30/min"),
        "login_account": env("THROTTLE_LOGIN_ACCOUNT", default="10/min"),
        "register_ip": env("THROTTLE_REGISTER_IP", default="10/hour"),
        "register_account": env("THROTTLE_REGISTER_ACCOUNT", default="5/hour"),
        "refresh_ip": env("THROTTLE_REFRESH_IP", default="60/min"),
        "refresh_session": env("THROTTLE_REFRESH_SESSION", default="10/min"),
        "password_reset_ip": env("THROTTLE_PASSWORD_RESET_IP", default="10/hour"),
        "password_reset_account": env("THROTTLE_PASSWORD_RESET_ACCOUNT", default="3/hour"),
        "availability_ip": env("THROTTLE_AVAILABILITY_IP", default="60/min"),
        "social_ip": env("THROTTLE_SOCIAL_IP", default="30/min"),
        # Per user: every upload costs a decode (images) or a probe and a stored file (videos).
        "image_upload": env("THROTTLE_IMAGE_UPLOAD", default="10/min"),
        "video_upload": env("THROTTLE_VIDEO_UPLOAD", default="30/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Who may read /api/schema/, /api/docs/ and /api/redoc/: anyone, or staff only (config/api_docs.py).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)
SPECTACULAR_SETTINGS = {
    "TITLE": "Learning platform API",
    "DESCRIPTION": (
        "Accounts, courses, videos, payments and votes. Every error uses the envelope "
        '`{"error": {"code", "message", "fields"}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "HealthStateEnum": ["ok", "unavailable"],
        "ProductKindEnum": ["course", "curriculum"],
        "PollKindEnum": "votes.models.PollKind",
        "CandidateStatusEnum": "votes.models.CandidateStatus",
        "OrderStatusEnum": "payments.models.OrderStatus",
        "PaymentStatusEnum": "payments.models.PaymentStatus",
    },
}

# --- Internationalisation -----------------------------------------------------------------------

LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Seoul")
USE_I18N = True
USE_TZ = True

# --- Learning: quizzes and assignments ----------------------------------------------------------

# The largest course tree one request may write (POST/PUT/PATCH /api/courses/): a bigger body is
# a 400 naming the path. Topics and questions count over the whole course.
COURSE_MAX_LECTURES = env.int("COURSE_MAX_LECTURES", default=100)
COURSE_MAX_TOPICS = env.int("COURSE_MAX_TOPICS", default=1000)
COURSE_MAX_QUESTIONS = env.int("COURSE_MAX_QUESTIONS", default=2000)
QUIZ_MAX_QUESTIONS = env.int("QUIZ_MAX_QUESTIONS", default=100)

# Attempts per learner per quiz (0 = unlimited); a pass scores at least this percent.
QUIZ_MAX_ATTEMPTS = env.int("QUIZ_MAX_ATTEMPTS", default=3)
QUIZ_PASS_PERCENT = env.int("QUIZ_PASS_PERCENT", default=60)
# Assignment uploads: size cap, and the types accepted (each is also checked by content).
SUBMISSION_MAX_FILE_BYTES = env.int("SUBMISSION_MAX_FILE_BYTES", default=10 * 1024 * 1024)
SUBMISSION_ALLOWED_EXTENSIONS = env.list(
    "SUBMISSION_ALLOWED_EXTENSIONS",
    default=["pdf", "zip", "txt", "md", "png", "jpg", "jpeg", "py", "ipynb"],
)

# --- Commerce: cart, orders, payments --------------------------------------------------------

# Providers a buyer may choose. "sandbox" imitates a gateway locally (production refuses it);
# "kakaopay" needs KAKAOPAY_SECRET_KEY (Secret key (dev) with the test CID TC0ONETIME for tests).
PAYMENT_PROVIDERS = env.list("PAYMENT_PROVIDERS", default=["sandbox"])
KAKAOPAY_SECRET_KEY = env("KAKAOPAY_SECRET_KEY", default="")
KAKAOPAY_CID = env("KAKAOPAY_CID", default="TC0ONETIME")
KAKAOPAY_API_URL = env("KAKAOPAY_API_URL", default="https://open-api.kakaopay.com")
# Seconds to wait for a provider's answer; then the payment stays pending and may be retried.
PAYMENT_PROVIDER_TIMEOUT = env.float("PAYMENT_PROVIDER_TIMEOUT", default=10.0)
# The provider sends the buyer's browser back to <base>/<payment id>/approve|cancel|fail/
# (?pg_token=...): frontend routes, which call POST /api/payments/<id>/approve/ (or cancel/, fail/)
# with the buyer's bearer token. A browser never holds that token, so not an /api/ URL.
PAYMENT_CALLBACK_BASE_URL = env("PAYMENT_CALLBACK_BASE_URL", default=FRONTEND_URL + "/payments")
# Where the sandbox's checkout page is served (this server).
PAYMENT_SANDBOX_BASE_URL = env("PAYMENT_SANDBOX_BASE_URL", default="http://127.0.0.1:8000")
# Largest order total in KRW (0 = no limit); the cart refuses what would pass it.
ORDER_MAX_TOTAL = env.int("ORDER_MAX_TOTAL", default=50_000)
# Seconds a pending order stays payable (its prices are that old); `manage.py purge_expired` closes
# it later. A payment started before then may still be approved within PAYMENT_APPROVAL_WINDOW
# seconds of its start (KakaoPay holds a payment ready for 15 minutes).
ORDER_PENDING_TTL = env.int("ORDER_PENDING_TTL", default=30 * 60)
PAYMENT_APPROVAL_WINDOW = env.int("PAYMENT_APPROVAL_WINDOW", default=15 * 60)
CART_MAX_ITEMS = env.int("CART_MAX_ITEMS", default=50)
# A purchase gives this many days of access; the buyer may refund within the window.
ENROLLMENT_PURCHASE_DAYS = env.int("ENROLLMENT_PURCHASE_DAYS", default=730)
REFUND_WINDOW_DAYS = env.int("REFUND_WINDOW_DAYS", default=7)

# --- Images (avatars, thumbnails) ---------------------------------------------------------------

# Larger uploads get 413 `file_too_large`; the body is cut off as it arrives.
IMAGE_MAX_UPLOAD_BYTES = env.int("IMAGE_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
# Decompression-bomb guard, read from the header before decoding. Keep <= Pillow's 89_478_485.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=50_000_000)
# Pixels decoded at once (a JPEG is decoded reduced towards IMAGE_MAX_BOX, a PNG or WebP whole):
# a worker's peak is about 10 bytes a pixel (16 MP: ~160 MB; a 49 MP PNG took 370-570 MB).
IMAGE_MAX_DECODED_PIXELS = env.int("IMAGE_MAX_DECODED_PIXELS", default=16_000_000)
# Stored images fit this square box in px, aspect kept, never upscaled.
IMAGE_MAX_BOX = env.int("IMAGE_MAX_BOX", default=1600)
IMAGE_OUTPUT_FORMAT = env("IMAGE_OUTPUT_FORMAT", default="WEBP")  # WEBP or JPEG
IMAGE_OUTPUT_QUALITY = env.int("IMAGE_OUTPUT_QUALITY", default=85)

# --- Videos ------------------------------------------------------------------------------------

VIDEO_MAX_UPLOAD_BYTES = env.int("VIDEO_MAX_UPLOAD_BYTES", default=500 * 1024 * 1024)
# Behind nginx: protected files (videos, assignment files) are sent through X-Accel-Redirect to
# this `internal` location, which maps PROTECTED_MEDIA_ROOT (e.g. "/protected-videos/"); empty:
# Django streams the bytes itself, honouring Range. VIDEO_ACCEL_REDIRECT_PREFIX is its old name.
PROTECTED_ACCEL_REDIRECT_PREFIX = env(
    "PROTECTED_ACCEL_REDIRECT_PREFIX", default=env("VIDEO_ACCEL_REDIRECT_PREFIX", default="")
)
# Watched time counted per (viewer, video) never exceeds the server time spent watching since the
# first event x this rate, plus the allowance once; a gap between two events counts as watching
# for at most VIDEO_WATCH_IDLE_SECONDS.
VIDEO_MAX_PLAYBACK_RATE = env.float("VIDEO_MAX_PLAYBACK_RATE", default=2.0)
VIDEO_WATCH_ALLOWANCE_SECONDS = env.float("VIDEO_WATCH_ALLOWANCE_SECONDS", default=5.0)
VIDEO_WATCH_IDLE_SECONDS = env.float("VIDEO_WATCH_IDLE_SECONDS", default=60.0)

# --- Retention: `manage.py purge_expired` (run it daily) deletes what is older ------------------

# Idempotency-Key outcomes: a retry after this long runs the request again.
IDEMPOTENCY_RETENTION = timedelta(hours=env.int("IDEMPOTENCY_RETENTION_HOURS", default=72))
# Raw watch events (the staff history); the progress computed from them is kept.
WATCH_EVENT_RETENTION_DAYS = env.int("WATCH_EVENT_RETENTION_DAYS", default=180)
# Login sessions this many days after they expired or were revoked.
AUTH_SESSION_RETENTION_DAYS = env.int("AUTH_SESSION_RETENTION_DAYS", default=90)
# Rows deleted per statement, so a purge never holds long locks.
PURGE_BATCH_SIZE = env.int("PURGE_BATCH_SIZE", default=5000)

# --- Static, media, uploads, email --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
# Scheme and host clients reach this API at (https://api.example.com): every file URL in a
# response is built on it, also where no request is at hand (the cached avatar). Empty: the
# request's own host, and a relative URL where there is no request.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="").rstrip("/")
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Lecture videos and assignment files: outside MEDIA_ROOT, never served by URL, only sent after
# an access check (core.protected_files).
PROTECTED_MEDIA_ROOT = env("PROTECTED_MEDIA_ROOT", default=str(BASE_DIR / "protected_media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "protected": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PROTECTED_MEDIA_ROOT, "base_url": None},
    },
}
# JSON bodies larger than this are refused with 413 before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="no-reply@localhost")
EMAIL_SEND_IN_BACKGROUND = env.bool("EMAIL_SEND_IN_BACKGROUND", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

"""The HTTP API: CORS, REST framework (auth, parsers, throttle rates) and OpenAPI."""

from config.settings.environment import env

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
    "X-Request-ID",  # for a bug report: names the request's log lines and Sentry event
]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=CORS_ALLOWED_ORIGINS)

# --- REST framework and OpenAPI -----------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ("accounts.auth.authentication.SessionJWTAuthentication",),
    "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.IsAuthenticated",),
    # JSON everywhere; upload endpoints opt into MultiPartParser themselves.
    "DEFAULT_PARSER_CLASSES": ("core.parsers.JSONParser",),
    "DEFAULT_RENDERER_CLASSES": ("core.renderers.JSONRenderer",),
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
        # Per user: what puts something in front of other people (chat.throttles).
        "friend_request": env("THROTTLE_FRIEND_REQUEST", default="30/hour"),
        "chat_report": env("THROTTLE_CHAT_REPORT", default="30/hour"),
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
        "ChatMemberRoleEnum": "chat.models.MemberRole",
        "FriendRequestStatusEnum": "chat.models.FriendRequestStatus",
        "ReportStatusEnum": "chat.models.ReportStatus",
        "ChatEventTypeEnum": ["message.new"],
        "RoleEnum": "accounts.models.Role",
        "TypeEnum": "courses.models.TopicType",
    },
}

"""Accounts: passwords, tokens and sessions, the refresh cookie, social login."""

from datetime import timedelta

from config.settings.environment import FRONTEND_URL, env

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
    "accounts.social.pipeline.associate_by_verified_email",
    "accounts.social.pipeline.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
)
SOCIAL_AUTH_PROTECTED_USER_FIELDS = ["email", "username", "role", "is_staff", "is_superuser"]
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "/"
SOCIAL_AUTH_URLOPEN_TIMEOUT = 10

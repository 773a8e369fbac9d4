"""Development on a laptop: zero configuration, SQLite file, debug on."""

from .base import *  # noqa: F403
from .base import SIMPLE_JWT, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-only-insecure-secret-key-change-me")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS", default=["http://localhost:3000", "http://127.0.0.1:3000"]
)
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="local-only-jwt-signing-key-change-me")
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY
# Plain-HTTP development server: a Secure cookie would never come back.
AUTH_REFRESH_COOKIE_SECURE = env.bool("AUTH_REFRESH_COOKIE_SECURE", default=False)

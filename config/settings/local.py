"""Development on a laptop: zero configuration, SQLite file, debug on.

The signing keys are random, made on the first start and kept in the untracked .env, so a
development server never signs tokens with a key anyone can read."""

import os
import re
import secrets

from .base import *  # noqa: F403
from .base import ENV_FILE, SIMPLE_JWT, env, signing_keys_check


def _key_from_env_file(name: str) -> str:
    """The variable from the environment (or .env), else a new random key written to .env."""
    value = env(name, default="")
    if value:
        return value
    value = secrets.token_urlsafe(50)
    lines = ENV_FILE.read_text().splitlines() if ENV_FILE.exists() else []
    empty = re.compile(rf"^\s*{re.escape(name)}\s*=\s*$")  # as copied from .env.example
    lines = [line for line in lines if not empty.match(line)] + [f"{name}={value}"]
    ENV_FILE.write_text("\n".join(lines) + "\n")
    ENV_FILE.chmod(0o600)
    os.environ[name] = value  # the autoreloader's child process reads the same key
    return value


DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = _key_from_env_file("DJANGO_SECRET_KEY")
JWT_SIGNING_KEY = _key_from_env_file("JWT_SIGNING_KEY")
signing_keys_check(debug=DEBUG, secret_key=SECRET_KEY, jwt_signing_key=JWT_SIGNING_KEY)
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS",
    default=[
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://localhost:5173",  # Vite's dev server
        "http://127.0.0.1:5173",
    ],
)
# `make run` serves here; file URLs (images, avatars, thumbnails) are absolute on it.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Plain-HTTP development server: a Secure cookie would never come back.
AUTH_REFRESH_COOKIE_SECURE = env.bool("AUTH_REFRESH_COOKIE_SECURE", default=False)

"""What the deployment-file tests (tests/test_deployment_*.py) share: the shipped files' paths,
a sample operator's .env, and subprocesses that see only the environment a test gives them."""

# Running the shipped scripts and the system's tools is what these tests are for.
# ruff: noqa: S603, S607

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
GUNICORN_CONF = ROOT / "docker" / "gunicorn.conf.py"
HEALTHCHECK = ROOT / "docker" / "healthcheck.py"
INIT_LETSENCRYPT = ROOT / "nginx" / "init-letsencrypt.sh"
ENV_EXAMPLE = ROOT / ".env.example"
WSGI = "config.wsgi:application"
POSTGRES_URL = os.environ.get("DATABASE_URL", "")
if POSTGRES_URL.startswith("postgres"):
    # The server's maintenance database: CI's DATABASE_URL names one only the test run creates.
    POSTGRES_URL = urlsplit(POSTGRES_URL)._replace(path="/postgres").geturl()
else:
    POSTGRES_URL = ""
# What an operator's .env holds for the compose stack (the values are samples).
FILLED_ENV = {
    "DJANGO_SECRET_KEY": "sample-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ",
    "JWT_SIGNING_KEY": "sample-jwt-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMN",
    "MEDIA_SIGNING_KEY": "sample-media-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKL",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://lms:sample-app-password@db:5432/lms",
    "POSTGRES_PASSWORD": "sample-superuser-password",
    "POSTGRES_APP_PASSWORD": "sample-app-password",
    "REDIS_PASSWORD": "sample-redis-password",
    "REDIS_URL": "redis://:sample-redis-password@redis:6379/0",
    "KAKAOPAY_SECRET_KEY": "sample-kakaopay-secret",
    "PAYMENT_CALLBACK_BASE_URL": "https://app.example.com/payments",
    "PUBLIC_BASE_URL": "https://api.example.com",
    "CORS_ALLOWED_ORIGINS": "https://app.example.com",
    "NGINX_SERVER_NAME": "api.example.com",
    "CERTBOT_EMAIL": "ops@example.com",
}

needs_docker_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose is not installed (make system-packages installs it)",
)


def clean_env(**extra: str) -> dict[str, str]:
    """A subprocess environment without this machine's settings, so only the test's count."""
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    return {"PATH": path, "HOME": os.environ.get("HOME", "/"), **extra}


def write_env_file(path: Path, values: dict[str, str]) -> Path:
    path.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
    return path


def compose_config(env_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", *args],
        cwd=ROOT,
        env=clean_env(ENV_FILE=str(env_file)),
        capture_output=True,
        text=True,
        timeout=60,
    )


def named_volume_mounts(service: dict) -> dict[str, str]:
    """{volume name: "target[:ro]"} for a service's named volumes (not bind mounts)."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, _, target = entry.partition(":")
        if not source.startswith((".", "/")):
            mounts[source] = target
    return mounts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]

"""The web image: the Dockerfile, its entrypoint (docker/entrypoint.sh), gunicorn's settings file
and the container's healthcheck (docker/healthcheck.py), run against stubs or real local
services."""

# Running the shipped scripts and the system's tools is what these tests are for.
# ruff: noqa: S603, S607

import json
import os
import re
import runpy
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from tests.deployment_files import (
    COMPOSE_FILE,
    DOCKERFILE,
    ENTRYPOINT,
    FILLED_ENV,
    GUNICORN_CONF,
    HEALTHCHECK,
    INIT_LETSENCRYPT,
    POSTGRES_URL,
    ROOT,
    WSGI,
    clean_env,
    free_port,
)

# --- Dockerfile --------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_builds_from_a_pinned_slim_python_and_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", instructions[0][1])
    users = [arguments for name, arguments in instructions if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    runs = " ".join(arguments for name, arguments in instructions if name == "RUN")
    assert "pip install --no-cache-dir -r requirements.txt" in runs
    assert re.search(r"apt-get install -y --no-install-recommends gettext", runs)
    assert "manage.py collectstatic --noinput" in runs
    assert "manage.py compilemessages" in runs


def test_dockerfile_keeps_secrets_out_of_env_and_the_build_placeholders_import_production():
    instructions = dockerfile_instructions()
    env_keys = set()
    for name, arguments in instructions:
        if name in ("ENV", "ARG"):
            env_keys |= set(re.findall(r"(\w+)=", arguments))
    assert env_keys, "no ENV found"
    assert not {key for key in env_keys if re.search(r"SECRET|KEY|PASSWORD|TOKEN|_URL", key)}

    build_step = next(arguments for name, arguments in instructions if "collectstatic" in arguments)
    placeholders = dict(re.findall(r"(\w+)=(\S+)", build_step.split("&&")[0]))
    assert {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "MEDIA_SIGNING_KEY", "DATABASE_URL"} <= set(
        placeholders
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--dry-run", "-v", "0"],
        cwd=ROOT,
        env=clean_env(DJANGO_SETTINGS_MODULE="config.settings.production", **placeholders),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_checks_health_and_starts_gunicorn_through_the_entrypoint():
    instructions = dict(dockerfile_instructions())
    assert "docker/healthcheck.py" in instructions["HEALTHCHECK"]
    assert '"/api/health/live/"' in HEALTHCHECK.read_text()
    assert instructions["ENTRYPOINT"] == '["/app/docker/entrypoint.sh"]'
    assert instructions["CMD"] == (
        '["gunicorn", "--config", "docker/gunicorn.conf.py", "config.wsgi:application"]'
    )
    scripts = ROOT / "scripts"
    for script in (
        ENTRYPOINT,
        INIT_LETSENCRYPT,
        ROOT / "docker" / "postgres-superuser-local.sh",
        *(scripts / name for name in ("install-system-packages.sh", "postgres-app-role.sh")),
        *(scripts / name for name in ("backup.sh", "restore.sh", "daily.sh")),
    ):
        assert os.access(script, os.X_OK), f"{script} is not executable"


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {
        ".git",
        ".venv",
        ".env",
        "db.sqlite3",
        "media",
        "protected_media",
        "staticfiles",
        "**/__pycache__",
        "bench",
    } <= ignored


# --- docker/entrypoint.sh ----------------------------------------------------------------------


def run_entrypoint(*command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *command],
        cwd="/",
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_entrypoint_gives_up_on_an_unreachable_database_after_its_bound(tmp_path):
    marker = tmp_path / "ran"
    started = time.monotonic()
    result = run_entrypoint(
        "touch",
        str(marker),
        DATABASE_URL=f"postgres://lms:secret@127.0.0.1:{free_port()}/lms",
        DB_WAIT_TIMEOUT="2",
        DJANGO_MIGRATE_ON_START="1",
    )
    assert result.returncode != 0
    assert "database unreachable after 2s" in result.stderr
    assert 2 <= time.monotonic() - started < 20
    assert not marker.exists(), "the command ran without a database"


def test_entrypoint_runs_the_command_when_there_is_no_database_to_wait_for():
    result = run_entrypoint("echo", "started", "with args")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started with args\n"


def test_entrypoint_migrates_before_running_the_command_when_asked(tmp_path):
    database = tmp_path / "db.sqlite3"
    result = run_entrypoint(
        "echo",
        "started",
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=f"sqlite:///{database}",
        DJANGO_MIGRATE_ON_START="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("started\n")
    with sqlite3.connect(database) as connection:
        applied = connection.execute("SELECT COUNT(*) FROM django_migrations").fetchone()[0]
    assert applied > 0


@pytest.mark.skipif(not POSTGRES_URL, reason="needs DATABASE_URL=postgres://... (as CI sets)")
def test_entrypoint_goes_on_once_postgresql_answers():
    result = run_entrypoint("true", DATABASE_URL=POSTGRES_URL, DB_WAIT_TIMEOUT="10")
    assert result.returncode == 0, result.stderr


# --- docker/gunicorn.conf.py and docker/healthcheck.py -----------------------------------------


def test_gunicorn_settings_default_sanely(monkeypatch):
    for name in list(os.environ):
        if name.startswith("GUNICORN_"):
            monkeypatch.delenv(name)
    settings = runpy.run_path(str(GUNICORN_CONF))
    assert settings["bind"] == "0.0.0.0:8000"
    assert settings["worker_class"] == "gthread"
    assert (settings["workers"], settings["threads"], settings["timeout"]) == (3, 2, 30)
    assert settings["keepalive"] > 60, "longer than nginx's upstream keep-alive"
    assert settings["forwarded_allow_ips"] == "*"
    assert settings["accesslog"] == "-"
    # The client as nginx saw it, not the first (client-chosen) entry of X-Forwarded-For; e2e
    # checks a forged entry stays out of the log.
    assert settings["access_log_format"].startswith("%({x-real-ip}i)s ")


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    values = {
        "GUNICORN_BIND": "127.0.0.1:9000",
        "GUNICORN_WORKERS": "5",
        "GUNICORN_THREADS": "8",
        "GUNICORN_TIMEOUT": "90",
        "GUNICORN_GRACEFUL_TIMEOUT": "20",
        "GUNICORN_KEEPALIVE": "100",
        "GUNICORN_MAX_REQUESTS": "500",
        "GUNICORN_MAX_REQUESTS_JITTER": "50",
        "GUNICORN_FORWARDED_ALLOW_IPS": "172.18.0.0/16",
        "GUNICORN_LOG_LEVEL": "warning",
        "GUNICORN_ACCESS_LOG": "",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = runpy.run_path(str(GUNICORN_CONF))
    assert settings["bind"] == "127.0.0.1:9000"
    assert (settings["workers"], settings["threads"]) == (5, 8)
    assert (settings["timeout"], settings["graceful_timeout"], settings["keepalive"]) == (
        90,
        20,
        100,
    )
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (500, 50)
    assert settings["forwarded_allow_ips"] == "172.18.0.0/16"
    assert settings["loglevel"] == "warning"
    assert settings["accesslog"] is None


def test_gunicorn_accepts_the_settings_file():
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF), "--print-config", WSGI],
        cwd=ROOT,
        # --print-config loads the application too.
        env=clean_env(GUNICORN_WORKERS="7", DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^workers\s+= 7$", result.stdout, flags=re.M)
    assert re.search(r"^control_socket_disable\s+= True$", result.stdout, flags=re.M)


def service_command(service: str) -> tuple[list[str], dict[str, str]]:
    """How a compose service of the web image starts gunicorn: its command line (the image's CMD
    unless compose gives one) and the fixed GUNICORN_* values of its `environment`."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text())["services"][service]
    cmd = next(json.loads(args) for name, args in dockerfile_instructions() if name == "CMD")
    command = compose.get("command", cmd)
    assert command[0] == "gunicorn"
    environment = {
        name: str(value)
        for name, value in compose.get("environment", {}).items()
        if name.startswith("GUNICORN_") and "${" not in str(value)
    }
    return [sys.executable, "-m", "gunicorn", *command[1:]], environment


def run_healthcheck(port: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK)],
        env=clean_env(DJANGO_ALLOWED_HOSTS="api.example.com", GUNICORN_BIND=f"0.0.0.0:{port}"),
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_healthcheck_fails_when_nothing_answers():
    result = run_healthcheck(free_port())
    assert result.returncode == 1
    assert "health check" in result.stderr


@pytest.mark.skipif(
    not POSTGRES_URL or not os.environ.get("REDIS_URL"),
    reason="production settings need DATABASE_URL=postgres://... and REDIS_URL (as CI sets)",
)
@pytest.mark.parametrize("service", ["web", "ws"])
def test_healthcheck_passes_against_gunicorn_with_production_settings(tmp_path, service):
    """The container's own view: its Host and scheme get past ALLOWED_HOSTS and the HTTPS
    redirect of production settings, through the same gunicorn settings file; on `ws` too, whose
    compose command and environment run the image's CMD's gunicorn with uvicorn workers on
    config.asgi, which answers HTTP as well."""
    command, service_env = service_command(service)
    port = free_port()
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=FILLED_ENV["DJANGO_SECRET_KEY"],
        JWT_SIGNING_KEY=FILLED_ENV["JWT_SIGNING_KEY"],
        MEDIA_SIGNING_KEY=FILLED_ENV["MEDIA_SIGNING_KEY"],
        DJANGO_ALLOWED_HOSTS="api.example.com",
        DATABASE_URL=POSTGRES_URL,
        REDIS_URL=os.environ["REDIS_URL"],
        KAKAOPAY_SECRET_KEY="sample",
        PAYMENT_CALLBACK_BASE_URL="https://app.example.com/payments",
        PUBLIC_BASE_URL="https://api.example.com",
        **service_env,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while (result := run_healthcheck(port)).returncode != 0 and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)
        assert result.returncode == 0, result.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

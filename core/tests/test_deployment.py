"""What ships for deployment (Dockerfile, docker-compose.yml, docker/, nginx/), checked without a
Docker daemon: docker-compose validates, the scripts run against stubs or real local services, and
the nginx configuration is in test_deployment_nginx.py, the data services' scripts (backups,
roles, Redis) in test_deployment_data.py; nginx's behaviour is proven live by e2e/."""

# Running the shipped scripts and the system's tools is what these tests are for.
# ruff: noqa: S603, S607

import os
import re
import runpy
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
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


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def named_volume_mounts(service: dict) -> dict[str, str]:
    """{volume name: "target[:ro]"} for a service's named volumes (not bind mounts)."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, _, target = entry.partition(":")
        if not source.startswith((".", "/")):
            mounts[source] = target
    return mounts


# --- docker-compose.yml ----------------------------------------------------------------------


@needs_docker_compose
@pytest.mark.parametrize("sample", ["env.example", "filled"])
def test_compose_file_passes_docker_compose_config(tmp_path, sample):
    env_file = (
        ENV_EXAMPLE if sample == "env.example" else write_env_file(tmp_path / ".env", FILLED_ENV)
    )
    result = compose_config(env_file, "-q")
    assert result.returncode == 0, result.stderr


@needs_docker_compose
@pytest.mark.parametrize(
    "secret", ["POSTGRES_PASSWORD", "POSTGRES_APP_PASSWORD", "REDIS_PASSWORD", "DATABASE_URL"]
)
def test_compose_refuses_an_env_file_without_a_secret(tmp_path, secret):
    values = {key: value for key, value in FILLED_ENV.items() if key != secret}
    result = compose_config(write_env_file(tmp_path / ".env", values), "-q")
    assert result.returncode != 0
    assert secret in result.stderr


def test_compose_services_use_pinned_images(compose):
    services = compose["services"]
    assert set(services) == {
        *("db", "redis", "web", "nginx", "certbot"),
        *("scheduler", "backup", "restore"),
    }
    assert re.fullmatch(r"postgres:16\.\d+", services["db"]["image"])
    assert re.fullmatch(r"redis:7\.\d+\.\d+", services["redis"]["image"])
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+(-alpine)?", services["nginx"]["image"])
    assert re.fullmatch(r"certbot/certbot:v\d+\.\d+\.\d+", services["certbot"]["image"])
    # pg_dump must be as new as the server: the backup services run the server's own image.
    assert services["backup"]["image"] == services["restore"]["image"] == services["db"]["image"]
    for name in ("web", "scheduler"):
        assert (services[name]["build"], services[name]["image"]) == (".", "lms-web")
    for name, service in services.items():
        if name == "restore":
            assert service["profiles"] == ["restore"], "run by hand, never by `up`"
        else:
            assert service["restart"] == "unless-stopped", name


def test_database_and_redis_have_healthchecks_that_the_web_service_waits_for(compose):
    services = compose["services"]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert services["web"]["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert named_volume_mounts(services["db"]) == {"postgres_data": "/var/lib/postgresql/data"}


def test_the_database_gives_the_application_a_role_of_its_own(compose):
    db = compose["services"]["db"]
    assert {
        "./scripts/postgres-app-role.sh:/docker-entrypoint-initdb.d/10-app-role.sh:ro",
        "./docker/postgres-superuser-local.sh:/docker-entrypoint-initdb.d/20-superuser-local.sh:ro",
    } <= set(db["volumes"])
    assert db["environment"]["POSTGRES_APP_USER"] == "${POSTGRES_APP_USER:-lms}"
    # The samples connect as that role, never as the superuser.
    example = dict(re.findall(r"^(\w+)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.M))
    for values in (example, FILLED_ENV):
        user = urlsplit(values["DATABASE_URL"]).username
        assert user == example["POSTGRES_APP_USER"] != example["POSTGRES_USER"]


def test_redis_needs_a_password_and_has_a_memory_policy(compose):
    redis = compose["services"]["redis"]
    assert redis["environment"] == {"REDISCLI_AUTH": "${REDIS_PASSWORD?set REDIS_PASSWORD in .env}"}
    command = " ".join(redis["command"])
    assert "redis-server /usr/local/etc/redis/redis.conf" in command
    assert '--requirepass "$$REDISCLI_AUTH"' in command
    assert '[ -n "$$REDISCLI_AUTH" ] ||' in command, "an empty password must not start Redis"
    assert "./docker/redis.conf:/usr/local/etc/redis/redis.conf:ro" in redis["volumes"]
    example = dict(re.findall(r"^(\w+)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.M))
    assert urlsplit(example["REDIS_URL"]).password
    assert urlsplit(FILLED_ENV["REDIS_URL"]).password == FILLED_ENV["REDIS_PASSWORD"]


def test_backups_run_daily_with_both_upload_volumes_and_restore_writes_them(compose):
    services = compose["services"]
    backup, restore = services["backup"], services["restore"]
    assert backup["entrypoint"] == ["/bin/sh", "/scripts/daily.sh"]
    assert backup["command"] == ["/bin/sh", "/scripts/backup.sh"]
    assert backup["environment"]["DAILY_AT"] == "${BACKUP_AT:-03:30}"
    assert backup["environment"]["BACKUP_KEEP_DAILY"] == "${BACKUP_KEEP_DAILY:-14}"
    assert "env_file" not in backup and "env_file" not in restore, "the database URL is enough"
    for service, mode in ((backup, ":ro"), (restore, "")):
        environment = service["environment"]
        assert environment["DATABASE_URL"] == "${DATABASE_URL?set DATABASE_URL in .env}"
        assert "./scripts:/scripts:ro" in service["volumes"]
        mounts = named_volume_mounts(service)
        assert mounts["media"] == environment["MEDIA_ROOT"] + mode
        assert mounts["protected_media"] == environment["PROTECTED_MEDIA_ROOT"] + mode
    assert named_volume_mounts(backup)["backups"] == backup["environment"]["BACKUP_DIR"]
    assert named_volume_mounts(restore)["backups"] == "/backups:ro"
    assert restore["entrypoint"] == ["/bin/sh", "/scripts/restore.sh"]


def test_the_scheduler_purges_expired_rows_daily_from_the_web_image(compose):
    scheduler = compose["services"]["scheduler"]
    assert scheduler["command"] == [
        "sh", "scripts/daily.sh", "python", "manage.py", "purge_expired"
    ]  # fmt: skip
    assert scheduler["environment"]["DAILY_AT"] == "${PURGE_AT:-04:00}"
    assert scheduler["environment"]["DJANGO_MIGRATE_ON_START"] == "0"
    assert scheduler["env_file"] == compose["services"]["web"]["env_file"]
    assert scheduler["healthcheck"] == {"disable": True}, "the image's check asks gunicorn"
    assert "volumes" not in scheduler
    # manage.py knows the command.
    result = subprocess.run(
        [sys.executable, "manage.py", "help", scheduler["command"][-1]],
        cwd=ROOT,
        env=clean_env(DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_web_runs_production_settings_from_the_env_file_unpublished_and_unprivileged(compose):
    web = compose["services"]["web"]
    assert web["env_file"] == "${ENV_FILE:-.env}"
    environment = web["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert environment["PROTECTED_ACCEL_REDIRECT_PREFIX"] == "/protected-videos/"
    assert environment["DJANGO_MIGRATE_ON_START"] == "${DJANGO_MIGRATE_ON_START:-1}"
    assert "ports" not in web, "gunicorn is reached through nginx only"
    assert "user" not in web, "the image's non-root USER applies"
    assert named_volume_mounts(web) == {
        "static": environment["STATIC_ROOT"],
        "media": environment["MEDIA_ROOT"],
        "protected_media": environment["PROTECTED_MEDIA_ROOT"],
    }


def test_nginx_serves_the_web_services_files_read_only_with_certbots_certificates(compose):
    services = compose["services"]
    nginx, environment = services["nginx"], services["nginx"]["environment"]
    assert nginx["ports"] == ["80:80", "443:443"]
    assert "env_file" not in nginx, "nginx gets no application secrets"
    assert environment["NGINX_ENVSUBST_FILTER"] == "NGINX_"
    assert environment["NGINX_UPSTREAM_SERVERS"] == "server web:8000 max_fails=0;"
    assert environment["NGINX_HTTPS_REDIRECT_PORT"] == ""
    assert "./nginx/templates:/etc/nginx/templates:ro" in nginx["volumes"]
    assert "./nginx/snippets:/etc/nginx/snippets:ro" in nginx["volumes"]
    assert named_volume_mounts(nginx) == {
        "static": environment["NGINX_STATIC_ROOT"] + ":ro",
        "media": environment["NGINX_MEDIA_ROOT"] + ":ro",
        "protected_media": environment["NGINX_PROTECTED_ROOT"] + ":ro",
        "letsencrypt": "/etc/letsencrypt:ro",
        "certbot_webroot": environment["NGINX_ACME_ROOT"] + ":ro",
    }
    live = "/etc/letsencrypt/live/${NGINX_SERVER_NAME}"
    assert environment["NGINX_SSL_CERTIFICATE"] == f"{live}/fullchain.pem"
    assert environment["NGINX_SSL_CERTIFICATE_KEY"] == f"{live}/privkey.pem"
    template = (ROOT / "nginx" / "templates" / "default.conf.template").read_text()
    assert set(re.findall(r"\$\{(NGINX_\w+)\}", template)) <= set(environment)


def test_certbot_renews_through_the_webroot_and_nginx_reloads_to_pick_it_up(compose):
    services = compose["services"]
    certbot, nginx = services["certbot"], services["nginx"]
    assert named_volume_mounts(certbot) == {
        "letsencrypt": "/etc/letsencrypt",
        "certbot_webroot": "/var/www/certbot",
    }
    renew_loop = " ".join(certbot["command"])
    assert "certbot renew --webroot -w /var/www/certbot" in renew_loop
    assert "sleep 43200" in renew_loop
    nginx_command = " ".join(nginx["command"])
    assert re.search(r"while :; do sleep \d+; nginx -s reload; done &", nginx_command)
    assert "exec /docker-entrypoint.sh nginx -g 'daemon off;'" in nginx_command


def test_every_named_volume_is_declared(compose):
    used = set()
    for service in compose["services"].values():
        used |= set(named_volume_mounts(service))
    assert used == set(compose["volumes"])


def test_env_example_documents_every_variable_the_deployment_files_read():
    read = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text())) - {"ENV_FILE"}
    read |= set(re.findall(r'"(GUNICORN_\w+)"', GUNICORN_CONF.read_text()))
    read |= set(re.findall(r"\$\{(\w+):-", ENTRYPOINT.read_text()))
    read |= set(re.findall(r'os\.environ\.get\("(\w+)"', ENTRYPOINT.read_text()))
    read |= {"NGINX_SERVER_NAME", "CERTBOT_EMAIL"}  # nginx/init-letsencrypt.sh
    documented = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), flags=re.M))
    # Compose sets this one itself, always.
    undocumented = read - documented - {"DJANGO_COLLECTSTATIC_ON_START"}
    assert not undocumented, f"add to .env.example: {sorted(undocumented)}"


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
    assert {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "DATABASE_URL"} <= set(placeholders)
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
    assert '"/api/health/"' in HEALTHCHECK.read_text()
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def test_healthcheck_passes_against_gunicorn_with_production_settings(tmp_path):
    """The container's own view: its Host and scheme get past ALLOWED_HOSTS and the HTTPS
    redirect of production settings, through the same gunicorn settings file."""
    port = free_port()
    env = clean_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=FILLED_ENV["DJANGO_SECRET_KEY"],
        JWT_SIGNING_KEY=FILLED_ENV["JWT_SIGNING_KEY"],
        DJANGO_ALLOWED_HOSTS="api.example.com",
        DATABASE_URL=POSTGRES_URL,
        REDIS_URL=os.environ["REDIS_URL"],
        KAKAOPAY_SECRET_KEY="sample",
        PAYMENT_CALLBACK_BASE_URL="https://app.example.com/payments",
        PUBLIC_BASE_URL="https://api.example.com",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF), WSGI],
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


# --- nginx/init-letsencrypt.sh -----------------------------------------------------------------

STUB_COMPOSE = """#!/bin/sh
# Stands in for `docker compose`: logs its arguments; `test -e` of a renewal file and certbot
# certonly answer with the statuses the test chose.
printf '%s\\n' "$*" >> "$STUB_LOG"
case "$*" in
    *"--entrypoint test "*) exit "$STUB_EXISTING_STATUS" ;;
    *" certonly "*) exit "$STUB_CERTBOT_STATUS" ;;
esac
"""


def run_init_letsencrypt(
    tmp_path: Path, *args: str, existing: bool = False, certbot_ok: bool = True, **env_file: str
) -> tuple[subprocess.CompletedProcess, list[str]]:
    stub, log = tmp_path / "compose", tmp_path / "compose.log"
    stub.write_text(STUB_COMPOSE)
    stub.chmod(0o755)
    log.touch()
    result = subprocess.run(
        ["sh", str(INIT_LETSENCRYPT), *args],
        env=clean_env(
            COMPOSE=str(stub),
            ENV_FILE=str(write_env_file(tmp_path / ".env", env_file)),
            STUB_LOG=str(log),
            STUB_EXISTING_STATUS="0" if existing else "1",
            STUB_CERTBOT_STATUS="0" if certbot_ok else "1",
        ),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result, log.read_text().splitlines()


def step(call: str) -> str:
    """Which step of the certificate dance one compose call is."""
    if "--entrypoint test " in call:
        return "check existing"
    if "openssl req -x509" in call:
        return "placeholder"
    if call == "up -d nginx":
        return "nginx up"
    if "rm -rf" in call:
        return "remove placeholder"
    if " certonly " in call:
        return "certonly"
    if call == "exec -T nginx nginx -s reload":
        return "reload"
    return f"unexpected: {call}"


def test_init_letsencrypt_starts_nginx_on_a_placeholder_then_swaps_in_the_real_certificate(
    tmp_path,
):
    result, calls = run_init_letsencrypt(tmp_path, "api.example.com", "ops@example.com")
    assert result.returncode == 0, result.stderr
    assert [step(call) for call in calls] == [
        "check existing",
        "placeholder",
        "nginx up",
        "remove placeholder",
        "certonly",
        "reload",
    ]
    live = "/etc/letsencrypt/live/api.example.com"
    assert f"-keyout '{live}/privkey.pem' -out '{live}/fullchain.pem'" in calls[1]
    assert f"rm -rf '{live}'" in calls[3]
    assert calls[4] == (
        "run --rm --entrypoint certbot certbot certonly --webroot -w /var/www/certbot"
        " -d api.example.com --email ops@example.com --agree-tos --no-eff-email --non-interactive"
    )


def test_init_letsencrypt_reads_domain_and_email_from_the_env_file_and_can_use_staging(tmp_path):
    result, calls = run_init_letsencrypt(
        tmp_path, "--staging", NGINX_SERVER_NAME="lms.example.org", CERTBOT_EMAIL="a@example.org"
    )
    assert result.returncode == 0, result.stderr
    certonly = next(call for call in calls if step(call) == "certonly")
    assert "-d lms.example.org --email a@example.org" in certonly
    assert certonly.endswith(" --staging")
    assert sum("--staging" in call for call in calls) == 1


def test_init_letsencrypt_leaves_a_managed_certificate_alone_unless_forced(tmp_path):
    result, calls = run_init_letsencrypt(
        tmp_path, "api.example.com", "ops@example.com", existing=True
    )
    assert result.returncode == 0
    assert "already has a certificate" in result.stderr
    assert [step(call) for call in calls] == ["check existing"]

    (tmp_path / "compose.log").unlink()
    result, calls = run_init_letsencrypt(
        tmp_path, "--force", "api.example.com", "ops@example.com", existing=True
    )
    assert result.returncode == 0, result.stderr
    assert [step(call) for call in calls][-1] == "reload"
    assert "check existing" not in [step(call) for call in calls]


def test_init_letsencrypt_puts_the_placeholder_back_when_certbot_fails(tmp_path):
    result, calls = run_init_letsencrypt(
        tmp_path, "api.example.com", "ops@example.com", certbot_ok=False
    )
    assert result.returncode == 1
    assert [step(call) for call in calls][-2:] == ["certonly", "placeholder"]
    assert "reload" not in [step(call) for call in calls]


@pytest.mark.parametrize(
    "args", [(), ("api.example.com",), ("api.example.com;reboot", "ops@example.com")]
)
def test_init_letsencrypt_refuses_a_missing_email_or_a_bad_domain_before_touching_docker(
    tmp_path, args
):
    result, calls = run_init_letsencrypt(tmp_path, *args)
    assert result.returncode == 2
    assert calls == []

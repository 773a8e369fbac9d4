"""docker-compose.yml as shipped: it validates with docker-compose (no daemon needed), refuses an
.env without its secrets, pins its images, and wires services, volumes and variables as the
deployment needs (README "Deployment")."""

# Running the shipped scripts and the system's tools is what these tests are for.
# ruff: noqa: S603

import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml

from tests.deployment_files import (
    COMPOSE_FILE,
    ENTRYPOINT,
    ENV_EXAMPLE,
    FILLED_ENV,
    GUNICORN_CONF,
    ROOT,
    clean_env,
    compose_config,
    named_volume_mounts,
    needs_docker_compose,
    write_env_file,
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


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
        *("db", "redis", "web", "ws", "nginx", "certbot"),
        *("worker", "beat", "backup", "restore", "objectstore"),
    }
    assert re.fullmatch(r"postgres:16\.\d+", services["db"]["image"])
    assert re.fullmatch(r"chrislusf/seaweedfs:\d+\.\d+", services["objectstore"]["image"])
    assert re.fullmatch(r"redis:7\.\d+\.\d+", services["redis"]["image"])
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+(-alpine)?", services["nginx"]["image"])
    assert re.fullmatch(r"certbot/certbot:v\d+\.\d+\.\d+", services["certbot"]["image"])
    # pg_dump must be as new as the server: the backup services run the server's own image.
    assert services["backup"]["image"] == services["restore"]["image"] == services["db"]["image"]
    for name in ("web", "ws", "worker", "beat"):
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
    for name in ("web", "ws"):
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name
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


def test_the_worker_and_one_beat_run_the_web_images_celery_app(compose):
    worker, beat = compose["services"]["worker"], compose["services"]["beat"]
    assert worker["command"][:3] == ["celery", "--app=config", "worker"]
    assert beat["command"][:3] == ["celery", "--app=config", "beat"]
    assert "deploy" not in beat, "one beat only: two would queue every job twice"
    for service in (worker, beat):
        assert service["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert service["environment"]["DJANGO_MIGRATE_ON_START"] == "0"
        assert service["env_file"] == compose["services"]["web"]["env_file"]
    assert "volumes" not in beat, "beat queues jobs and touches no file"
    # The worker processes videos where `web` keeps uploads: the same volumes at the same paths.
    web = compose["services"]["web"]
    for volume in ("media", "protected_media"):
        assert named_volume_mounts(worker)[volume] == named_volume_mounts(web)[volume]
    for variable in ("MEDIA_ROOT", "PROTECTED_MEDIA_ROOT"):
        assert worker["environment"][variable] == web["environment"][variable]
    assert "inspect ping" in worker["healthcheck"]["test"][1], "the image's check asks gunicorn"
    assert beat["healthcheck"] == {"disable": True}
    assert int(worker["stop_grace_period"].rstrip("s")) >= 30, "the task at hand may finish"
    # The celery command finds the app and each scheduled task exists.
    code = (
        "import django; django.setup(); from config.celery import app; "
        "app.loader.import_default_modules(); from django.conf import settings; "
        "tasks = [e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values()]; "
        "print(len(tasks), [task for task in tasks if task not in app.tasks])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "5 []"  # purge, mails, orders, payments, videos


def test_web_runs_production_settings_from_the_env_file_unpublished_and_unprivileged(compose):
    web = compose["services"]["web"]
    assert web["env_file"] == "${ENV_FILE:-.env}"
    environment = web["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    # The volume's nginx location unless .env puts uploads on S3 (settings refuse a mismatch).
    prefix = "${PROTECTED_ACCEL_REDIRECT_PREFIX:-/protected-videos/}"
    assert environment["PROTECTED_ACCEL_REDIRECT_PREFIX"] == prefix
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
    assert environment["NGINX_WS_UPSTREAM_SERVERS"] == "server ws:8000 max_fails=0;"
    assert nginx["depends_on"] == {
        "web": {"condition": "service_started"},
        "ws": {"condition": "service_started"},
    }, "started, not healthy: nginx must answer the ACME challenge while the application is down"
    assert environment["NGINX_HTTPS_REDIRECT_PORT"] == ""
    assert "./nginx/nginx.conf:/etc/nginx/nginx.conf:ro" in nginx["volumes"]
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


def test_ws_serves_the_sockets_from_the_web_image_under_uvicorn_workers_never_recycled(compose):
    """Same image, env file and settings as web; gunicorn's command line picks the worker class,
    so the one settings file (docker/gunicorn.conf.py) serves both."""
    web, ws = compose["services"]["web"], compose["services"]["ws"]
    assert ws["command"] == [
        "gunicorn", "--config", "docker/gunicorn.conf.py",
        "--worker-class", "config.asgi_worker.ChatUvicornWorker", "config.asgi:application",
    ]  # fmt: skip
    assert ws["env_file"] == web["env_file"]
    environment = ws["environment"]
    assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    # A worker recycled after N requests would cut every socket it holds.
    assert environment["GUNICORN_MAX_REQUESTS"] == "0"
    assert environment["GUNICORN_WORKERS"] == "${WS_WORKERS:-2}"
    # web migrates and collects static files; two containers doing it at once would race.
    assert environment["DJANGO_MIGRATE_ON_START"] == "0"
    assert environment["DJANGO_COLLECTSTATIC_ON_START"] == "0"
    assert "ports" not in ws and ws["expose"] == ["8000"], "reached through nginx only"
    assert "volumes" not in ws, "sockets need no files"
    assert "healthcheck" not in ws, "the image's check: config.asgi answers /api/health/live/"
    assert "user" not in ws
    assert ws["security_opt"] == ["no-new-privileges:true"]
    # The worker class and the application exist under these names.
    result = subprocess.run(
        [sys.executable, "-c", "import config.asgi_worker as w; w.ChatUvicornWorker"],
        cwd=ROOT,
        env=clean_env(DJANGO_SETTINGS_MODULE="config.settings.test"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_nginx_read_timeout_for_sockets_outlasts_the_servers_ping(compose):
    """nginx closes a socket on which the upstream sent nothing for NGINX_WS_READ_TIMEOUT; the
    server pings every CHAT_PING_SECONDS, so the defaults and the sample keep it well above."""
    environment = compose["services"]["nginx"]["environment"]
    default = re.fullmatch(
        r"\$\{NGINX_WS_READ_TIMEOUT:-(\d+)s\}", environment["NGINX_WS_READ_TIMEOUT"]
    )
    example = dict(re.findall(r"^(\w+)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.M))
    sample = re.fullmatch(r"(\d+)s", example["NGINX_WS_READ_TIMEOUT"])
    assert default and sample
    ping = float(example["CHAT_PING_SECONDS"])
    settings_default = re.search(
        r'"CHAT_PING_SECONDS", default=([\d.]+)', (ROOT / "config/settings/chat.py").read_text()
    )
    assert settings_default and float(settings_default[1]) == ping
    # Room for a late ping and its round trip on a busy server.
    assert int(default[1]) >= 2 * ping + 10
    assert int(sample[1]) >= 2 * ping + 10


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


def test_the_object_store_runs_only_when_asked_on_the_compose_network_only(compose):
    """The `objectstore` profile: SeaweedFS with its data in a volume, identities and buckets from
    .env (docker/objectstore.sh), healthy once the buckets exist, never published."""
    store = compose["services"]["objectstore"]
    assert store["profiles"] == ["objectstore"], "uploads stay on the volumes by default"
    assert "ports" not in store and store["expose"] == ["8333"]
    assert "env_file" not in store, "the store needs its own key, not the application's secrets"
    assert set(store["environment"]) == {
        "S3_BUCKET", "S3_PROTECTED_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY",
    }  # fmt: skip
    assert store["entrypoint"] == ["/bin/sh", "/objectstore.sh"]
    assert "./docker/objectstore.sh:/objectstore.sh:ro" in store["volumes"]
    assert named_volume_mounts(store) == {"objectstore_data": "/data"}
    assert "http://127.0.0.1:8333/healthz" in store["healthcheck"]["test"][1]
    assert "buckets-ready" in store["healthcheck"]["test"][1], "made once the buckets exist"
    assert store["security_opt"] == ["no-new-privileges:true"]
    script = (ROOT / "docker" / "objectstore.sh").read_text()
    # Only the S3 API beyond the container; the filer's and master's APIs check no key.
    assert "-ip.bind=127.0.0.1" in script and "-s3.ip.bind=0.0.0.0" in script
    assert "-s3.port=8333" in script and "-master.telemetry=false" in script
    # Without a key: the public bucket's objects; never the protected bucket as a whole.
    anonymous = re.search(r'\{"name": "anonymous", "actions": \[(.*?)\]\}', script)
    assert anonymous and '"Read:$S3_BUCKET"' in anonymous[1]
    assert '"Read:$S3_PROTECTED_BUCKET"' not in anonymous[1]
    assert "Write" not in anonymous[1] and "List" not in anonymous[1]
    # The application's settings and nginx name the same store, buckets and location.
    example = dict(re.findall(r"^(\w+)=(.*)$", ENV_EXAMPLE.read_text(), flags=re.M))
    nginx = compose["services"]["nginx"]["environment"]
    assert nginx["NGINX_OBJECT_STORE_URL"] == "${NGINX_OBJECT_STORE_URL:-http://objectstore:8333}"
    assert example["NGINX_OBJECT_STORE_URL"] == "http://objectstore:8333"
    assert nginx["NGINX_PUBLIC_BUCKET"] == "${S3_BUCKET:-lms-media}"
    assert nginx["NGINX_RESOLVER"] == "127.0.0.11", "Docker's DNS: names resolve per request"
    assert "objectstore" not in compose["services"]["nginx"]["depends_on"], "nginx starts alone"


@needs_docker_compose
def test_the_object_store_profile_validates_with_s3_settings(tmp_path):
    values = {
        **FILLED_ENV, "COMPOSE_PROFILES": "objectstore", "S3_BUCKET": "lms-media",
        "S3_PROTECTED_BUCKET": "lms-protected", "S3_ACCESS_KEY_ID": "lms-app",
        "S3_SECRET_ACCESS_KEY": "x" * 40, "S3_ENDPOINT_URL": "http://objectstore:8333",
        "PROTECTED_ACCEL_REDIRECT_PREFIX": "/protected-store/",
    }  # fmt: skip
    result = compose_config(write_env_file(tmp_path / ".env", values))
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert services["objectstore"]["environment"]["S3_BUCKET"] == "lms-media"
    assert services["web"]["environment"]["PROTECTED_ACCEL_REDIRECT_PREFIX"] == "/protected-store/"
    assert services["nginx"]["environment"]["NGINX_PUBLIC_BUCKET"] == "lms-media"


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

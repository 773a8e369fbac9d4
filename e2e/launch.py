"""How each server of the end-to-end stack (e2e/stack.py) is started: nginx rendered from the
template as the official image renders it, gunicorn with the container's settings file, and
PostgreSQL databases owned by the application's own role (scripts/postgres-app-role.sh)."""

import contextlib
import ctypes
import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "nginx"
COMPOSE_FILE = ROOT / "docker-compose.yml"
GUNICORN_CONF = ROOT / "docker" / "gunicorn.conf.py"
APP_ROLE_SCRIPT = ROOT / "scripts" / "postgres-app-role.sh"
HOST = "127.0.0.1"
SERVER_NAME = "localhost"
# A database per process: two runs side by side (a test suite and a benchmark) never meet.
DATABASE_URL = os.environ.get(
    "E2E_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/e2e_{os.getpid()}"
)
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/13")
# The application connects as a role of its own, as in production; DATABASE_URL is the
# superuser's, for creating and dropping.
APP_ROLE = f"e2e_app_{os.getpid()}"
PROTECTED_PREFIX = "/protected-videos/"
READY_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1

NGINX_MAIN_CONF = """\
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    log_format upstream '$remote_addr "$request" $status $upstream_addr';
    access_log {run}/access.log upstream;
    client_body_temp_path {run}/client_body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    include conf.d/*.conf;
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def compose_nginx_defaults() -> dict[str, str]:
    """The NGINX_* values docker-compose.yml gives nginx from `${NAME:-default}` (body limits,
    HSTS preload), so the stack runs with what a deployment gets by default."""
    environment = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["nginx"]["environment"]
    defaults = {}
    for name, value in environment.items():
        if match := re.fullmatch(r"\$\{\w+:-([^}]*)\}", str(value)):
            defaults[name] = match[1]
    return defaults


def render_nginx(conf_dir: Path, variables: dict[str, str]) -> None:
    """What the official image's 20-envsubst-on-templates.sh does: envsubst each template with
    only the named variables, so nginx's own $host, $uri... stay as they are. The snippets are
    copied as compose mounts them."""
    (conf_dir / "conf.d").mkdir(parents=True, exist_ok=True)
    shutil.copytree(NGINX_DIR / "snippets", conf_dir / "snippets", dirs_exist_ok=True)
    env = {**os.environ, **variables}
    names = " ".join(f"${{{name}}}" for name in variables)
    for template in sorted((NGINX_DIR / "templates").glob("*.template")):
        rendered = subprocess.run(
            ["envsubst", names],
            input=template.read_text(),
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (conf_dir / "conf.d" / template.name.removesuffix(".template")).write_text(rendered)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={SERVER_NAME}",
            "-addext", f"subjectAltName=DNS:{SERVER_NAME},IP:{HOST}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _postgres(dbname: str):
    import psycopg2

    url = urlsplit(DATABASE_URL)
    conn = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, dbname=dbname
    )
    conn.autocommit = True
    return conn


def database_drop(name: str) -> None:
    conn = _postgres("postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def app_database_create(name: str, *, role: str = APP_ROLE, password: str = "") -> str:
    """A database owned by the application's role, both made by scripts/postgres-app-role.sh as
    compose's PostgreSQL does on its first start; returns the role's URL for it."""
    url = urlsplit(DATABASE_URL)
    password = password or secrets.token_urlsafe(16)
    subprocess.run(
        ["sh", str(APP_ROLE_SCRIPT)],
        env={
            **os.environ,
            "PGHOST": url.hostname or HOST,
            "PGPORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_DB": name,
            "POSTGRES_APP_USER": role,
            "POSTGRES_APP_PASSWORD": password,
        },
        check=True,
        capture_output=True,
        text=True,
    )
    netloc = f"{role}:{password}@{url.hostname}:{url.port or 5432}"
    return url._replace(netloc=netloc, path=f"/{name}").geturl()


def app_role_drop(role: str = APP_ROLE) -> None:
    conn = _postgres("postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        conn.close()


def database_recreate(*, create: bool = True) -> str:
    """Drop the stack's database; with `create`, make it again (owned by the application's
    role) and return the role's URL for it."""
    name = urlsplit(DATABASE_URL).path.lstrip("/")
    database_drop(name)
    return app_database_create(name) if create else ""


def die_with_parent() -> None:
    # Linux: a server gets SIGTERM if the test run is killed before it can stop them itself.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def wait_until(check, what: str, processes: dict) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while {what}")
        with contextlib.suppress(OSError, http.client.HTTPException, ssl.SSLError):
            if check():
                return
        time.sleep(0.1)
    raise RuntimeError(f"timed out {what}")


def stop_processes(processes: dict) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def start_gunicorn(env: dict, port: int, log_path: Path, *, workers: int = 2) -> subprocess.Popen:
    """gunicorn with the container's settings file; the command line picks the loopback port,
    sync workers (threads would turn them into gthread) and no worker recycling mid-run."""
    log = open(log_path, "a")  # noqa: SIM115 # the process keeps it; closed with this one's exit
    try:
        return subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
                f"--bind={HOST}:{port}", f"--workers={workers}", "--worker-class=sync",
                "--threads=1", "--max-requests=0", f"--chdir={ROOT}", "--log-level=warning",
                "config.wsgi:application",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )  # fmt: skip
    finally:
        log.close()


def nginx_variables(
    run_dir: Path, env: dict, upstreams: list[str], cert: Path, key: Path, **overrides: str
) -> dict[str, str]:
    http_port, https_port = overrides.pop("http_port"), overrides.pop("https_port")
    return {
        **compose_nginx_defaults(),
        "NGINX_SERVER_NAME": SERVER_NAME,
        "NGINX_HTTP_PORT": str(http_port),
        "NGINX_HTTPS_PORT": str(https_port),
        "NGINX_HTTPS_REDIRECT_PORT": f":{https_port}",
        # One worker killed mid-request must not take a whole instance out of rotation.
        "NGINX_UPSTREAM_SERVERS": " ".join(
            f"server {upstream} max_fails=0;" for upstream in upstreams
        ),
        "NGINX_SSL_CERTIFICATE": str(cert),
        "NGINX_SSL_CERTIFICATE_KEY": str(key),
        "NGINX_ACME_ROOT": str(run_dir / "acme"),
        "NGINX_STATIC_ROOT": env["STATIC_ROOT"],
        "NGINX_MEDIA_ROOT": env["MEDIA_ROOT"],
        "NGINX_PROTECTED_ROOT": env["PROTECTED_MEDIA_ROOT"],
        **overrides,
    }


def start_nginx(nginx_dir: Path, variables: dict[str, str], extra_conf: str = "") -> list[str]:
    """Render the template into `nginx_dir` (plus `extra_conf`, a test's own server, if given),
    check it with `nginx -t` and return the command that runs it."""
    render_nginx(nginx_dir, variables)
    if extra_conf:
        (nginx_dir / "conf.d" / "zz-test.conf").write_text(extra_conf)
    (nginx_dir / "nginx.conf").write_text(NGINX_MAIN_CONF.format(run=nginx_dir))
    nginx = ["nginx", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")]
    subprocess.run([*nginx, "-t", "-q"], check=True, capture_output=True, text=True)
    return nginx


def run_nginx(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*command, "-g", "daemon off;"],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )


def make_run_dir() -> Path:
    run_dir = Path(tempfile.mkdtemp(prefix="lms-e2e-"))
    run_dir.chmod(0o755)  # nginx's workers run as an unprivileged user and must read the files
    for folder in ("static", "media", "protected", "nginx", "acme", "logs"):
        (run_dir / folder).mkdir()
    return run_dir

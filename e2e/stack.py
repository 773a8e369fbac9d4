"""The production shape on loopback: PostgreSQL, Redis, gunicorn instances (production settings)
and nginx rendered from nginx/templates with a self-signed certificate, on free high ports.

Used by the end-to-end tests (e2e/, `make e2e`) and bench/edge.py. Everything runs in a throw-away
folder and a database of its own; `stack()` stops what it started, whatever happens.
"""

import contextlib
import ctypes
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
NGINX_DIR = ROOT / "nginx"
HOST = "127.0.0.1"
SERVER_NAME = "localhost"
# A database per process: two runs side by side (a test suite and a benchmark) never meet.
DATABASE_URL = os.environ.get(
    "E2E_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/e2e_{os.getpid()}"
)
REDIS_URL = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/13")
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


def render_nginx(conf_dir: Path, variables: dict[str, str]) -> None:
    """What the official image's 20-envsubst-on-templates.sh does: envsubst each template with
    only the named variables, so nginx's own $host, $uri... stay as they are."""
    (conf_dir / "conf.d").mkdir(parents=True, exist_ok=True)
    shutil.copy(NGINX_DIR / "django_proxy.conf", conf_dir / "django_proxy.conf")
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


def database_recreate(*, create: bool = True) -> None:
    name = urlsplit(DATABASE_URL).path.lstrip("/")
    conn = _postgres("postgres")
    try:
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


@dataclass
class Stack:
    run_dir: Path
    env: dict
    http_port: int
    https_port: int
    gunicorn_ports: list[int]
    certificate: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"https://{SERVER_NAME}:{self.https_port}"

    def manage(self, *args: str, input: str | None = None) -> str:
        """Run a manage.py command against the stack's database and settings."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}: {result.stderr[-2000:]}")
        return result.stdout

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    def request(
        self,
        method: str,
        path: str,
        *,
        body=None,
        headers: dict | None = None,
        port: int | None = None,
        tls: bool = True,
        source: str = HOST,
    ) -> "Reply":
        """One request through nginx (HTTPS by default), or straight to a gunicorn `port`;
        `source` is the client's loopback address (127.0.0.2 makes it differ from nginx's)."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if port is not None:
            conn = http.client.HTTPConnection(HOST, port, timeout=30, source_address=(source, 0))
        elif tls:
            conn = http.client.HTTPSConnection(
                SERVER_NAME,
                self.https_port,
                timeout=30,
                context=self.ssl_context(),
                source_address=(source, 0),
            )
        else:
            conn = http.client.HTTPConnection(
                SERVER_NAME, self.http_port, timeout=30, source_address=(source, 0)
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, dict(response.getheaders()), response.read())
        finally:
            conn.close()

    def nginx_log(self) -> str:
        return (self.run_dir / "nginx" / "error.log").read_text(errors="replace")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict
    body: bytes

    def header(self, name: str) -> str | None:
        lowered = {key.lower(): value for key, value in self.headers.items()}
        return lowered.get(name.lower())

    def json(self):
        return json.loads(self.body)


def _die_with_parent() -> None:
    # Linux: a server gets SIGTERM if the test run is killed before it can stop them itself.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _wait_until(check, what: str, processes: dict) -> None:
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


def _stop(processes: dict) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def django_env(run_dir: Path, **overrides: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": f"{SERVER_NAME},{HOST}",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"e2e-{secrets.token_hex(4)}",
        "STATIC_ROOT": str(run_dir / "static"),
        "MEDIA_ROOT": str(run_dir / "media"),
        "PROTECTED_MEDIA_ROOT": str(run_dir / "protected"),
        "VIDEO_ACCEL_REDIRECT_PREFIX": PROTECTED_PREFIX,
        "NUM_PROXIES": "1",
        "KAKAOPAY_SECRET_KEY": "e2e-unused",
        "PAYMENT_CALLBACK_BASE_URL": f"https://{SERVER_NAME}/api/payments",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(overrides)
    return env


@contextlib.contextmanager
def stack(*, instances: int = 2, workers: int = 2, **django_overrides: str):
    """Start the stack; yields a Stack. `django_overrides` are extra environment variables for
    Django (e.g. CORS_ALLOWED_ORIGINS, AUTH_REFRESH_COOKIE, THROTTLE_LOGIN_ACCOUNT)."""
    run_dir = Path(tempfile.mkdtemp(prefix="lms-e2e-"))
    run_dir.chmod(0o755)  # nginx's workers run as an unprivileged user and must read the files
    processes: dict[str, subprocess.Popen] = {}
    try:
        for folder in ("static", "media", "protected", "nginx", "acme", "logs"):
            (run_dir / folder).mkdir()
        env = django_env(run_dir, **django_overrides)
        database_recreate()
        gunicorn_ports = [free_port() for _ in range(instances)]
        http_port, https_port = free_port(), free_port()
        cert, key = self_signed_certificate(run_dir / "nginx")
        current = Stack(run_dir, env, http_port, https_port, gunicorn_ports, cert, processes)
        current.manage("migrate", "--noinput")
        current.manage("collectstatic", "--noinput")
        for index, port in enumerate(gunicorn_ports):
            log = open(run_dir / "logs" / f"gunicorn-{index}.log", "w")  # noqa: SIM115
            processes[f"gunicorn-{index}"] = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "config.wsgi:application",
                    f"--bind={HOST}:{port}", f"--workers={workers}", "--worker-class=sync",
                    f"--chdir={ROOT}", "--log-level=warning",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        render_nginx(
            run_dir / "nginx",
            {
                "NGINX_SERVER_NAME": SERVER_NAME,
                "NGINX_HTTP_PORT": str(http_port),
                "NGINX_HTTPS_PORT": str(https_port),
                "NGINX_HTTPS_REDIRECT_PORT": f":{https_port}",
                # One worker killed mid-request must not take a whole instance out of rotation.
                "NGINX_UPSTREAM_SERVERS": " ".join(
                    f"server {HOST}:{p} max_fails=0;" for p in gunicorn_ports
                ),
                "NGINX_SSL_CERTIFICATE": str(cert),
                "NGINX_SSL_CERTIFICATE_KEY": str(key),
                "NGINX_ACME_ROOT": str(run_dir / "acme"),
                "NGINX_STATIC_ROOT": env["STATIC_ROOT"],
                "NGINX_MEDIA_ROOT": env["MEDIA_ROOT"],
                "NGINX_PROTECTED_ROOT": env["PROTECTED_MEDIA_ROOT"],
                "NGINX_CLIENT_MAX_BODY_SIZE": "520m",
            },
        )
        nginx_dir = run_dir / "nginx"
        (nginx_dir / "nginx.conf").write_text(NGINX_MAIN_CONF.format(run=nginx_dir))
        nginx = ["nginx", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")]
        subprocess.run([*nginx, "-t", "-q"], check=True, capture_output=True, text=True)
        processes["nginx"] = subprocess.Popen(
            [*nginx, "-g", "daemon off;"],
            stderr=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        for port in gunicorn_ports:
            _wait_until(
                lambda port=port: (
                    current.request(
                        "GET", "/api/health/", port=port, headers={"X-Forwarded-Proto": "https"}
                    ).status
                    == 200
                ),
                f"waiting for gunicorn on {port}",
                processes,
            )
        _wait_until(
            lambda: current.request("GET", "/api/health/").status == 200,
            "waiting for nginx",
            processes,
        )
        yield current
    finally:
        _stop(processes)
        shutil.rmtree(run_dir, ignore_errors=True)
        with contextlib.suppress(Exception):
            database_recreate(create=False)

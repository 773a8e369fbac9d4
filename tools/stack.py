"""The production shape on loopback: private PostgreSQL (the application's own role, made by
scripts/postgres-app-role.sh) and Redis, gunicorn instances (production settings, the container's
docker/gunicorn.conf.py) and nginx rendered from nginx/templates, on free ports in a throw-away
folder. `stack()` stops and removes what it started, whatever happens; `edge_only()` starts nginx
alone in front of any upstream, for what needs nginx's own answers."""

import contextlib
import secrets
import shutil
import ssl
from dataclasses import dataclass, field
from pathlib import Path

from tools import app, nginx
from tools.app import SERVER_NAME
from tools.clients import Reply, connect, exchange
from tools.procs import HOST, free_port, run_dir, stop, wait_until
from tools.services import Postgres, Redis, services

FOLDERS = ("static", "media", "protected", "nginx", "acme", "logs")
DATABASE, APP_ROLE = "app", "app_user"


@dataclass
class Stack:
    run_dir: Path
    env: dict
    http_port: int
    https_port: int
    gunicorn_ports: list[int] = field(default_factory=list)
    processes: dict = field(default_factory=dict)
    postgres: Postgres | None = None
    redis: Redis | None = None

    @property
    def base_url(self) -> str:
        return f"https://{SERVER_NAME}:{self.https_port}"

    @property
    def certificate(self) -> Path:
        return self.run_dir / "nginx" / "fullchain.pem"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    def manage(self, *args: str, input: str | None = None) -> str:
        """A manage.py command on the stack's database and settings."""
        return app.manage(self.env, *args, input=input)

    def request(self, method, path, *, body=None, headers=None, port=None, tls=True, source=HOST,
                timeout=30.0) -> Reply:  # fmt: skip
        """One request through nginx (HTTPS by default), or straight to a gunicorn `port`;
        `source` is the client's loopback address (127.0.0.2 makes it differ from nginx's)."""
        where = {"source": source, "timeout": timeout}
        if port is not None:
            conn = connect(port, **where)
        elif tls:
            conn = connect(self.https_port, str(self.certificate), **where)
        else:
            conn = connect(self.http_port, host=SERVER_NAME, **where)
        try:
            return exchange(conn, method, path, body, headers)
        finally:
            conn.close()

    def nginx_log(self) -> str:
        return (self.run_dir / "nginx" / "error.log").read_text(errors="replace")

    def gunicorn_log(self) -> str:
        logs = sorted((self.run_dir / "logs").glob("gunicorn-*.log"))
        return "".join(path.read_text(errors="replace") for path in logs)


@contextlib.contextmanager
def stack(*, instances=2, workers=2, with_nginx=True, access_log=False, **django_overrides: str):
    """Start everything; yields a Stack. `access_log` turns gunicorn's access log on (in
    logs/gunicorn-N.log); `django_overrides` are environment variables for Django (e.g.
    DJANGO_SETTINGS_MODULE, CORS_ALLOWED_ORIGINS, THROTTLE_LOGIN_ACCOUNT)."""
    folder = run_dir(*FOLDERS)
    try:
        with services(folder) as (postgres, redis):
            url = postgres.app_database(DATABASE, APP_ROLE, secrets.token_urlsafe(16))
            if access_log:
                django_overrides.setdefault("GUNICORN_ACCESS_LOG", "-")
            env = app.django_env(folder, url, redis.url(), **django_overrides)
            ports = [free_port() for _ in range(instances)]
            running = Stack(folder, env, free_port(), free_port(), ports, {}, postgres, redis)
            try:
                running.manage("migrate", "--noinput")
                for index, port in enumerate(ports):
                    log = folder / "logs" / f"gunicorn-{index}.log"
                    running.processes[f"gunicorn-{index}"] = app.gunicorn(
                        env, port, log, workers=workers
                    )
                if with_nginx:
                    running.manage("collectstatic", "--noinput")
                    _nginx_start(running, [f"{HOST}:{port}" for port in ports])
                for port in ports:
                    app.wait_healthy(port, running.processes)
                yield running
            finally:
                stop(running.processes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _nginx_start(running: Stack, upstreams: list[str], extra_conf: str = "", **values) -> None:
    folder = running.run_dir
    rendered = nginx.variables(folder, upstreams, running.http_port, running.https_port, **values)
    conf = extra_conf.replace("{run}", str(folder))
    running.processes["nginx"] = nginx.start(folder / "nginx", rendered, conf)
    wait_until(
        lambda: running.request("GET", "/api/health/").status > 0,
        "waiting for nginx",
        running.processes,
    )


@contextlib.contextmanager
def edge_only(*, upstreams: list[str] | None = None, extra_conf: str = "", **values: str):
    """nginx alone, rendered as in `stack()`, in front of `upstreams` (by default a port nothing
    listens on: every proxied request gets nginx's own 503). `values` override NGINX_* values;
    `extra_conf` adds a test's own server block ({run} is the run folder)."""
    folder = run_dir(*FOLDERS)
    running = Stack(folder, {}, free_port(), free_port())
    try:
        _nginx_start(running, upstreams or [f"{HOST}:{free_port()}"], extra_conf, **values)
        yield running
    finally:
        stop(running.processes)
        shutil.rmtree(folder, ignore_errors=True)

"""The production shape on loopback: private PostgreSQL (the application's own role, made by
scripts/postgres-app-role.sh) and Redis, gunicorn instances (production settings, the container's
docker/gunicorn.conf.py), ASGI instances for the chat sockets if asked, an S3 object store
(SeaweedFS) for the uploads if asked, and nginx rendered from nginx/templates, on free ports in a
throw-away folder. `stack()` stops and removes what it
started, whatever happens; `edge_only()` starts nginx alone in front of any upstream, for what
needs nginx's own answers."""

import contextlib
import secrets
import shutil
import ssl
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tools import app, nginx
from tools.app import SERVER_NAME
from tools.clients import Reply, connect, exchange
from tools.objectstore import ObjectStore, object_store
from tools.procs import HOST, free_port, run_dir, server_port, stop, wait_until
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
    asgi_ports: list[int] = field(default_factory=list)
    asgi_extra: tuple = ()
    object_store: ObjectStore | None = None
    # Each gunicorn instance's environment: `env`, plus upload folders of its own when the
    # uploads are on the object store.
    instance_envs: list[dict] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"https://{SERVER_NAME}:{self.https_port}"

    @property
    def certificate(self) -> Path:
        return self.run_dir / "nginx" / "fullchain.pem"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.certificate))

    def ws_url(self, path: str = "/ws/chat/", *, port: int | None = None) -> str:
        """The socket's URL through nginx (wss://), or straight to an ASGI instance's `port`
        (ws://; the client then sends X-Forwarded-Proto as nginx would)."""
        if port is not None:
            return f"ws://{HOST}:{port}{path}"
        return f"wss://{SERVER_NAME}:{self.https_port}{path}"

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

    def asgi_start(self, index: int) -> None:
        """Start ASGI instance `index` on its port (again, after a test killed it), as `stack()`
        does; its log goes on in logs/asgi-N.log. `tools.app.wait_healthy` waits for it."""
        log = self.run_dir / "logs" / f"asgi-{index}.log"
        port = self.asgi_ports[index]
        self.processes[f"asgi-{index}"] = app.asgi(self.env, port, log, extra=self.asgi_extra)

    def worker_start(self) -> None:
        """The Celery worker (the `worker` service, two pool processes), ready when this returns;
        its log goes on in logs/worker.log."""
        log = self.run_dir / "logs" / "worker.log"
        started = app.worker_starts(log)
        self.processes["worker"] = app.celery_worker(self.env, log, concurrency=2)
        app.wait_worker_ready(log, self.processes["worker"], after=started)

    def beat_start(self) -> None:
        """The Celery beat (the `beat` service), started when this returns; logs in
        logs/beat.log."""
        log = self.run_dir / "logs" / "beat.log"
        self.processes["beat"] = app.celery_beat(self.env, log, self.run_dir / "celerybeat")
        wait_until(
            lambda: log.exists() and "beat: Starting" in log.read_text(errors="replace"),
            "starting celery beat",
            {"beat": self.processes["beat"]},
        )

    def worker_log(self) -> str:
        log = self.run_dir / "logs" / "worker.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def asgi_log(self) -> str:
        logs = sorted((self.run_dir / "logs").glob("asgi-*.log"))
        return "".join(path.read_text(errors="replace") for path in logs)


@contextlib.contextmanager
def stack(*, instances=2, workers=2, with_nginx=True, access_log=False, asgi_instances=0,
          celery_worker=False, object_store=False, nginx_values: dict | None = None,
          **django_overrides: str):  # fmt: skip
    """Start everything; yields a Stack. `access_log` turns gunicorn's access log on (in
    logs/gunicorn-N.log) and the ASGI servers' log to the container's level (info);
    `asgi_instances` ASGI servers (the `ws` service, one worker each, logs
    in logs/asgi-N.log) serve nginx's /ws/; `celery_worker` starts the `worker` service (logs in
    logs/worker.log; `Stack.worker_start` starts it again after a test killed it);
    `nginx_values` override NGINX_* values (e.g. NGINX_WS_READ_TIMEOUT); `django_overrides` are
    environment variables for Django (e.g. DJANGO_SETTINGS_MODULE, CORS_ALLOWED_ORIGINS,
    THROTTLE_LOGIN_ACCOUNT, CHAT_PING_SECONDS).
    `object_store` puts every upload on a SeaweedFS of the run (Stack.object_store, which a test
    may stop and start), read by nginx at /protected-store/ and /media-store/, and gives each
    gunicorn instance upload folders of its own."""
    folder = run_dir(*FOLDERS)
    try:
        with services(folder) as (postgres, redis), _store(folder, object_store) as store:
            url = postgres.app_database(DATABASE, APP_ROLE, secrets.token_urlsafe(16))
            if access_log:
                django_overrides.setdefault("GUNICORN_ACCESS_LOG", "-")
            http_port, https_port = server_port(), server_port()
            if store is not None:
                django_overrides = {**_store_env(store, https_port), **django_overrides}
                nginx_values = {**_store_nginx_values(store), **(nginx_values or {})}
            env = app.django_env(folder, url, redis.url(), **django_overrides)
            ports = [server_port() for _ in range(instances)]
            running = Stack(folder, env, http_port, https_port, ports, {}, postgres, redis)
            running.asgi_ports = [server_port() for _ in range(asgi_instances)]
            running.asgi_extra = ("--log-level=info",) if access_log else ()
            running.object_store = store
            running.instance_envs = [
                _own_upload_folders(env, folder, index) if store else env
                for index in range(instances)
            ]
            try:
                running.manage("migrate", "--noinput")
                for index, port in enumerate(ports):
                    log = folder / "logs" / f"gunicorn-{index}.log"
                    running.processes[f"gunicorn-{index}"] = app.gunicorn(
                        running.instance_envs[index], port, log, workers=workers
                    )
                for index in range(asgi_instances):
                    running.asgi_start(index)
                if celery_worker:
                    running.worker_start()
                try:
                    if with_nginx:
                        running.manage("collectstatic", "--noinput")
                        ws = [f"{HOST}:{port}" for port in running.asgi_ports]
                        upstreams = [f"{HOST}:{port}" for port in ports]
                        signing = {"NGINX_MEDIA_SIGNING_KEY": env["MEDIA_SIGNING_KEY"]}
                        values = signing | (nginx_values or {})
                        _nginx_start(running, upstreams, ws_upstreams=ws, **values)
                    for port in [*ports, *running.asgi_ports]:
                        app.wait_healthy(port, running.processes)
                except RuntimeError:
                    _print_log_tails(folder)  # the folder goes with the stack
                    raise
                yield running
            finally:
                stop(running.processes)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _store(folder: Path, wanted: bool):
    """The run's object store in folder/objectstore, or None."""
    if not wanted:
        yield None
        return
    with object_store(folder / "objectstore") as store:
        yield store


def _store_env(store: ObjectStore, https_port: int) -> dict[str, str]:
    """Uploads on `store`; protected files sent by nginx from it, public media at nginx's
    /media-store/ (the store itself stays private, as deployed)."""
    return {
        **store.django_env(),
        "PROTECTED_ACCEL_REDIRECT_PREFIX": "/protected-store/",
        "S3_CUSTOM_DOMAIN": f"{SERVER_NAME}:{https_port}/media-store",
    }


def _store_nginx_values(store: ObjectStore) -> dict[str, str]:
    return {
        "NGINX_OBJECT_STORE_URL": store.endpoint_url,
        "NGINX_PUBLIC_BUCKET": store.public_bucket,
        "NGINX_PROTECTED_BUCKET": store.protected_bucket,
        "NGINX_STREAM_SOURCE": "/stream-store/",
    }


def _own_upload_folders(env: dict, folder: Path, index: int) -> dict:
    """`env` with MEDIA_ROOT and PROTECTED_MEDIA_ROOT of instance `index` alone: with the uploads
    on the object store, no file is shared through a disk."""
    own = {
        "MEDIA_ROOT": folder / f"media-{index}",
        "PROTECTED_MEDIA_ROOT": folder / f"protected-{index}",
    }
    for path in own.values():
        path.mkdir()
    return {**env, **{name: str(path) for name, path in own.items()}}


def _print_log_tails(folder: Path, lines: int = 30) -> None:
    """The end of every server log of a stack that failed to start, on stderr."""
    logs = [*(folder / "logs").glob("*.log"), folder / "nginx" / "error.log"]
    for log in sorted([*logs, folder / "objectstore" / "weed.log"]):
        if log.exists():
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            print(f"--- {log.name}", *tail, sep="\n", file=sys.stderr)


def _nginx_start(running: Stack, upstreams: list[str], extra_conf: str = "", *, ws_upstreams=None,
                 **values) -> None:  # fmt: skip
    folder = running.run_dir
    ports = (running.http_port, running.https_port)
    rendered = nginx.variables(folder, upstreams, *ports, ws_upstreams, **values)
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
    running = Stack(folder, {}, server_port(), server_port())
    try:
        _nginx_start(running, upstreams or [f"{HOST}:{free_port()}"], extra_conf, **values)
        yield running
    finally:
        stop(running.processes)
        shutil.rmtree(folder, ignore_errors=True)

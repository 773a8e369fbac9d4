"""The production shape on loopback: PostgreSQL (the application's own role, made by
scripts/postgres-app-role.sh), Redis, gunicorn instances (production settings, the container's
docker/gunicorn.conf.py) and nginx rendered from nginx/templates with a self-signed certificate and
the limits docker-compose.yml gives it, on free high ports.

Used by the end-to-end tests (e2e/, `make e2e`), bench/edge.py and faults/. Everything runs in a
throw-away folder and a database of its own; `stack()` stops what it started, whatever happens.
`edge_only()` starts nginx alone in front of any upstream, for what needs nginx's own answers.
"""

import contextlib
import http.client
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from e2e.launch import (  # noqa: F401 # the names tests, bench/ and faults/ import from here
    DATABASE_URL,
    HOST,
    PROTECTED_PREFIX,
    REDIS_URL,
    ROOT,
    SERVER_NAME,
    app_database_create,
    app_role_drop,
    database_drop,
    database_recreate,
    free_port,
    make_run_dir,
    nginx_variables,
    run_nginx,
    self_signed_certificate,
    start_gunicorn,
    start_nginx,
    stop_processes,
    wait_until,
)


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

    def manage(self, *args: str, input: str | None = None, env: dict | None = None) -> str:
        """Run a manage.py command against the stack's database and settings (or `env`)."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env or self.env,
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
        timeout: float = 30,
    ) -> "Reply":
        """One request through nginx (HTTPS by default), or straight to a gunicorn `port`;
        `source` is the client's loopback address (127.0.0.2 makes it differ from nginx's)."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        if port is not None:
            conn = http.client.HTTPConnection(
                HOST, port, timeout=timeout, source_address=(source, 0)
            )
        elif tls:
            conn = http.client.HTTPSConnection(
                SERVER_NAME,
                self.https_port,
                timeout=timeout,
                context=self.ssl_context(),
                source_address=(source, 0),
            )
        else:
            conn = http.client.HTTPConnection(
                SERVER_NAME, self.http_port, timeout=timeout, source_address=(source, 0)
            )
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, response.getheaders(), response.read())
        finally:
            conn.close()

    def nginx_log(self) -> str:
        return (self.run_dir / "nginx" / "error.log").read_text(errors="replace")

    def gunicorn_log(self) -> str:
        return "".join(
            path.read_text(errors="replace")
            for path in sorted((self.run_dir / "logs").glob("gunicorn-*.log"))
        )


@dataclass(frozen=True)
class Reply:
    status: int
    header_list: list[tuple[str, str]]
    body: bytes

    @property
    def headers(self) -> dict:
        return dict(self.header_list)

    def header(self, name: str) -> str | None:
        lowered = {key.lower(): value for key, value in self.header_list}
        return lowered.get(name.lower())

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in order: a repeated header shows up more than once."""
        return [value for key, value in self.header_list if key.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)


def django_env(run_dir: Path, database_url: str = DATABASE_URL, **overrides: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": f"{SERVER_NAME},{HOST}",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"e2e-{secrets.token_hex(4)}",
        "STATIC_ROOT": str(run_dir / "static"),
        "MEDIA_ROOT": str(run_dir / "media"),
        "PROTECTED_MEDIA_ROOT": str(run_dir / "protected"),
        "PROTECTED_ACCEL_REDIRECT_PREFIX": PROTECTED_PREFIX,
        "NUM_PROXIES": "1",
        "KAKAOPAY_SECRET_KEY": "e2e-unused",
        "PAYMENT_CALLBACK_BASE_URL": f"https://{SERVER_NAME}/payments",  # frontend routes
        "PUBLIC_BASE_URL": f"https://{SERVER_NAME}",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONDONTWRITEBYTECODE": "1",
        # The access log is the container's (docker/gunicorn.conf.py) where a test reads it; off
        # elsewhere, so benchmarks and fault runs measure what they did before.
        "GUNICORN_ACCESS_LOG": "",
    }
    env.update(overrides)
    return env


def wait_for_gunicorn(stack: Stack, port: int, processes: dict) -> None:
    wait_until(
        lambda: (
            stack.request(
                "GET", "/api/health/", port=port, headers={"X-Forwarded-Proto": "https"}
            ).status
            == 200
        ),
        f"waiting for gunicorn on {port}",
        processes,
    )


@contextlib.contextmanager
def stack(
    *, instances: int = 2, workers: int = 2, access_log: bool = False, **django_overrides: str
):
    """Start the stack; yields a Stack. `access_log` turns gunicorn's access log on (in
    logs/gunicorn-N.log); `django_overrides` are extra environment variables for Django (e.g.
    CORS_ALLOWED_ORIGINS, AUTH_REFRESH_COOKIE, THROTTLE_LOGIN_ACCOUNT)."""
    run_dir = make_run_dir()
    processes: dict[str, subprocess.Popen] = {}
    try:
        app_database_url = database_recreate()
        if access_log:
            django_overrides.setdefault("GUNICORN_ACCESS_LOG", "-")
        env = django_env(run_dir, app_database_url, **django_overrides)
        gunicorn_ports = [free_port() for _ in range(instances)]
        http_port, https_port = free_port(), free_port()
        cert, key = self_signed_certificate(run_dir / "nginx")
        current = Stack(run_dir, env, http_port, https_port, gunicorn_ports, cert, processes)
        current.manage("migrate", "--noinput")
        current.manage("collectstatic", "--noinput")
        for index, port in enumerate(gunicorn_ports):
            processes[f"gunicorn-{index}"] = start_gunicorn(
                env, port, run_dir / "logs" / f"gunicorn-{index}.log", workers=workers
            )
        nginx = start_nginx(
            run_dir / "nginx",
            nginx_variables(
                run_dir,
                env,
                [f"{HOST}:{port}" for port in gunicorn_ports],
                cert,
                key,
                http_port=http_port,
                https_port=https_port,
            ),
        )
        processes["nginx"] = run_nginx(nginx)
        for port in gunicorn_ports:
            wait_for_gunicorn(current, port, processes)
        wait_until(
            lambda: current.request("GET", "/api/health/").status == 200,
            "waiting for nginx",
            processes,
        )
        yield current
    finally:
        stop_processes(processes)
        shutil.rmtree(run_dir, ignore_errors=True)
        with contextlib.suppress(Exception):
            database_recreate(create=False)
        with contextlib.suppress(Exception):
            app_role_drop()


@contextlib.contextmanager
def edge_only(*, upstreams: list[str] | None = None, extra_conf: str = "", **variables: str):
    """nginx alone, rendered as in `stack()`, in front of `upstreams` (by default a port nothing
    listens on: every proxied request gets nginx's own 503). `variables` override NGINX_*
    values; `extra_conf` adds a test's own server block. Yields a Stack without gunicorn."""
    run_dir = make_run_dir()
    processes: dict[str, subprocess.Popen] = {}
    try:
        env = {
            "STATIC_ROOT": str(run_dir / "static"),
            "MEDIA_ROOT": str(run_dir / "media"),
            "PROTECTED_MEDIA_ROOT": str(run_dir / "protected"),
        }
        http_port, https_port = free_port(), free_port()
        cert, key = self_signed_certificate(run_dir / "nginx")
        current = Stack(run_dir, env, http_port, https_port, [], cert, processes)
        nginx = start_nginx(
            run_dir / "nginx",
            nginx_variables(
                run_dir,
                env,
                upstreams or [f"{HOST}:{free_port()}"],
                cert,
                key,
                http_port=http_port,
                https_port=https_port,
                **variables,
            ),
            extra_conf.replace("{run}", str(run_dir)),
        )
        processes["nginx"] = run_nginx(nginx)
        wait_until(
            lambda: current.request("GET", "/api/health/").status > 0,
            "waiting for nginx",
            processes,
        )
        yield current
    finally:
        stop_processes(processes)
        shutil.rmtree(run_dir, ignore_errors=True)

"""What the gunicorn benchmarks share besides the load (bench/load.py): the bench database and
Redis, the server, the command line and the figures.

auth_throughput.py and votes.py serve the project with gunicorn (sync workers, `bench.settings`:
production settings, PostgreSQL, Redis) on a free loopback port. Nothing here imports Django at
module level: the spawned client processes re-import the scripts that import this module.
"""

import argparse
import contextlib
import ctypes
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import HOST, REQUEST_TIMEOUT, Plan

ROOT = Path(__file__).resolve().parent.parent
BARE_PATH = "/bench/bare/"
DRF_PATH = "/bench/drf/"
HEALTH_PATH = "/api/health/"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
CACHE_KEY_PREFIX = "bench"
# Behind nginx on the public site; requests only ever use the path of these URLs.
CALLBACK_BASE_URL = "https://127.0.0.1/api/payments"
# Production sits behind nginx, which sets this; it keeps SECURE_SSL_REDIRECT on as deployed.
BASE_HEADERS = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
JSON_HEADERS = {**BASE_HEADERS, "Content-Type": "application/json"}
READY_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1


# --- Server and fixtures ------------------------------------------------------------------------


def bench_env(*, database_url: str, redis_url: str) -> dict:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX,
        # Production requires a provider's secret and a public callback URL; no bench pays for
        # real, so no provider is enabled (checkout.py turns the sandbox on for itself).
        "PAYMENT_PROVIDERS": "",
        "PAYMENT_CALLBACK_BASE_URL": CALLBACK_BASE_URL,
        "PUBLIC_BASE_URL": "https://127.0.0.1",
    }


def _postgres_connect(database_url: str, dbname: str):
    import psycopg2

    url = urlsplit(database_url)
    return psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=dbname,
    )


def database_ensure(database_url: str) -> None:
    from psycopg2 import sql

    name = urlsplit(database_url).path.lstrip("/")
    conn = _postgres_connect(database_url, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def redis_clear(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{CACHE_KEY_PREFIX}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def service_pids(*, database_url: str, redis_url: str) -> dict[str, int]:
    """PostgreSQL's postmaster and the Redis server, when they run on this host (else none)."""
    import redis

    pids = {}
    with contextlib.suppress(Exception):
        conn = _postgres_connect(database_url, urlsplit(database_url).path.lstrip("/"))
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backend = cursor.fetchone()[0]
            # A backend's parent is the postmaster, whose children are every backend.
            stat = Path(f"/proc/{backend}/stat").read_text()
            pids["postgres"] = int(stat.rsplit(")", 1)[1].split()[1])
        finally:
            conn.close()
    with contextlib.suppress(Exception):
        client = redis.Redis.from_url(redis_url)
        pid = int(client.info("server")["process_id"])
        client.close()
        if Path(f"/proc/{pid}").exists():
            pids["redis"] = pid
    return pids


def django_setup() -> None:
    """Configure Django in this process (settings from the environment) and migrate."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def database_vacuum(tables: list[str]) -> None:
    """VACUUM ANALYZE tables a preparation churned, so every run starts from the same state.

    Autovacuum may be off (it is on the 2-core bench host): dead rows from earlier runs would
    then pile up and slow later runs, and fresh bulk inserts would have no planner statistics.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")


def _die_with_parent() -> None:
    # Linux only: gunicorn gets SIGTERM if this script is killed before it can clean up.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http_call(port: int, method: str, path: str, *, headers=None, body=None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request(method, path, body=body, headers={**BASE_HEADERS, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def expect(port: int, path: str, status: int, headers=None, *, method="GET", body=None) -> dict:
    """Send one request; its JSON body, or RuntimeError if the status is not `status`."""
    got, raw = http_call(port, method, path, headers=headers, body=body)
    if got != status:
        raise RuntimeError(f"{method} {path} returned {got}, expected {status}: {raw[:300]!r}")
    return json.loads(raw)


@dataclass(frozen=True)
class Server:
    pid: int
    port: int
    # Other processes whose CPU is sampled with each slice: name -> root pid.
    watched: dict = field(default_factory=dict)


@contextlib.contextmanager
def gunicorn_server(env: dict, workers: int, log_path: Path, watched: dict | None = None):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--chdir={ROOT}",
        "--log-level=warning",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    try:
        _wait_ready(process, port, log_path)
        yield Server(pid=process.pid, port=port, watched=watched or {})
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError):
            if http_call(port, "GET", HEALTH_PATH)[0] == 200:
                return
        time.sleep(0.2)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"gunicorn did not become healthy on port {port}; its log:\n{tail}")


# --- Command line and report --------------------------------------------------------------------


def argument_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per URL (10)")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per URL (2)")
    parser.add_argument(
        "--slice", type=float, default=2.5, help="seconds per alternating slice (2.5)"
    )
    parser.add_argument(
        "--max-requests", type=int, default=200_000, help="bound on requests per URL (200000)"
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--json-out", type=Path, help="also write the figures here (run_all.py)")
    return parser


def parse_args(parser: argparse.ArgumentParser, positive: tuple[str, ...] = ()):
    args = parser.parse_args()
    for name in ("duration", "concurrency", "workers", "slice", "max_requests", *positive):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def print_setup(args: argparse.Namespace, plan: Plan) -> None:
    print(
        f"gunicorn {args.workers} sync workers, settings bench.settings, "
        f"{urlsplit(args.database_url).path.lstrip('/')} on PostgreSQL, Redis {args.redis_url}"
    )
    print(
        f"load: {plan.concurrency} client processes (http.client), {plan.duration:g} s per URL "
        f"in {plan.slices} alternating slices after {plan.warmup:g} s warm-up each; "
        f"load average before {os.getloadavg()[0]:.2f}"
    )


def verdict(passed: bool, valid: bool = True) -> str:
    if not valid:
        return "INVALID"
    return "PASS" if passed else "FAIL"


def write_figures(path: Path | None, rows: list[dict]) -> None:
    """The `--json-out` file run_all.py reads: figure, value and, if judged, target and verdict."""
    if path:
        path.write_text(json.dumps(rows))


def script_main(main) -> None:
    """Run `main` as a script: SIGTERM and Ctrl-C unwind, so gunicorn and the clients stop."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; gunicorn and the clients were stopped", file=sys.stderr)
        sys.exit(130)

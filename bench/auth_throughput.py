"""Requests/s of an authenticated `GET /api/users/me/` against a bare Django JSON view.

Serves the project with gunicorn (sync workers, production settings, PostgreSQL, Redis) on a free
loopback port, logs a user in through the real login endpoint, then loads both URLs in
alternating slices with the same client processes and prints req/s, latency and the ratio.
"""

import argparse
import base64
import contextlib
import ctypes
import http.client
import json
import math
import multiprocessing
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ME_PATH = "/api/users/me/"
BARE_PATH = "/bench/bare/"
DRF_PATH = "/bench/drf/"
LOGIN_PATH = "/api/auth/login/"
LOGOUT_PATH = "/api/auth/logout/"
HEALTH_PATH = "/api/health/"
TARGET_RATIO = 0.5
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
CACHE_KEY_PREFIX = "bench"
BENCH_EMAIL = "bench-user@example.com"
BENCH_USERNAME = "bench-user"
BENCH_TEAM = "Bench team"
# Production sits behind nginx, which sets this; it keeps SECURE_SSL_REDIRECT on as deployed.
BASE_HEADERS = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
REQUEST_TIMEOUT = 10.0
START_SLACK = 0.3
READY_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1


# --- Load generator (runs in spawned client processes) ------------------------------------------


def _client_init() -> None:
    # Ctrl-C is handled once, by the parent, which then terminates the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _load(job: tuple) -> dict:
    """Send GETs one after another until the shared deadline; one client of the concurrency."""
    port, path, headers, start_at, seconds, max_requests = job
    while (pause := start_at - time.monotonic()) > 0:
        time.sleep(pause)
    deadline = start_at + seconds
    latencies, statuses, failures = [], Counter(), Counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    sent = 0
    while sent < max_requests and time.monotonic() < deadline:
        sent += 1
        began = time.perf_counter()
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            failures[type(exc).__name__] += 1
            conn.close()
            continue
        latencies.append(time.perf_counter() - began)
        statuses[response.status] += 1
    conn.close()
    return {
        "latencies": latencies,
        "statuses": dict(statuses),
        "failures": dict(failures),
        "ended": time.monotonic(),
    }


@dataclass
class Target:
    label: str
    path: str
    headers: dict
    latencies: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    elapsed: float = 0.0
    server_cpu: float = 0.0

    def add(self, start_at: float, results: list[dict], server_cpu: float) -> None:
        for result in results:
            self.latencies.extend(result["latencies"])
            self.statuses.update(result["statuses"])
            self.failures.update(result["failures"])
        self.elapsed += max(result["ended"] for result in results) - start_at
        self.server_cpu += server_cpu

    @property
    def responses(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        non_2xx = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return non_2xx + sum(self.failures.values())

    @property
    def rps(self) -> float:
        return self.responses / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu * 1000 / self.responses if self.responses else math.nan

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def server_cpu_seconds(master_pid: int) -> float:
    """User + system CPU of gunicorn's master and workers so far (Linux /proc; else 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(stat.parent.name) == master_pid or int(fields[1]) == master_pid:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


def run_slice(pool, server, target: Target, seconds: float, concurrency: int, cap: int):
    """Load one URL from every client at once for `seconds`; returns start, results, CPU."""
    cpu_before = server_cpu_seconds(server.pid)
    start_at = time.monotonic() + START_SLACK
    job = (server.port, target.path, target.headers, start_at, seconds, cap)
    results = pool.map(_load, [job] * concurrency, chunksize=1)
    return start_at, results, server_cpu_seconds(server.pid) - cpu_before


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
    }


def database_ensure(database_url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    conn = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname="postgres",
    )
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


def django_prepare(password: str) -> None:
    """Migrate the bench database and (re)create the bench user with `password` and a team."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from accounts.models import CustomUser, Team

    call_command("migrate", interactive=False, verbosity=0)
    team, _created = Team.objects.get_or_create(name=BENCH_TEAM)
    user = CustomUser.objects.filter(email=BENCH_EMAIL).first()
    if user is None:
        user = CustomUser.objects.create_user(BENCH_EMAIL, BENCH_USERNAME, password, team=team)
    else:
        user.set_password(password)
        user.is_active, user.team = True, team
        user.save()
    # The parent keeps no connection open while gunicorn and the load run.
    connections.close_all()


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


@dataclass(frozen=True)
class Server:
    pid: int
    port: int


@contextlib.contextmanager
def gunicorn_server(env: dict, workers: int, log_path: Path):
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
        yield Server(pid=process.pid, port=port)
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


def login(port: int, password: str) -> dict:
    body = json.dumps({"login": BENCH_EMAIL, "password": password})
    status, raw = http_call(
        port, "POST", LOGIN_PATH, headers={"Content-Type": "application/json"}, body=body
    )
    if status != 200:
        raise RuntimeError(f"login returned {status}: {raw[:300]!r}")
    return json.loads(raw)


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def expect(port: int, path: str, status: int, headers=None) -> dict:
    got, raw = http_call(port, "GET", path, headers=headers)
    if got != status:
        raise RuntimeError(f"GET {path} returned {got}, expected {status}: {raw[:300]!r}")
    return json.loads(raw)


def sanity_check(port: int, auth: dict, session_id: str) -> None:
    """Fail before loading if either URL would not measure what it claims to."""
    from django.core.cache import cache

    from bench.urls import BARE_BODY

    if expect(port, BARE_PATH, 200) != BARE_BODY:
        raise RuntimeError("the bare view returned an unexpected body")
    expect(port, ME_PATH, 401)
    expect(port, ME_PATH, 401, headers={"Authorization": "Bearer not.a.token"})
    if expect(port, ME_PATH, 200, headers=auth)["email"] != BENCH_EMAIL:
        raise RuntimeError("/api/users/me/ answered for another user")
    # Key layout of accounts.revocation: a cached verdict means the check runs through Redis.
    if cache.get(f"auth:session:{session_id}") is None:
        raise RuntimeError("no revocation cache entry for the session: check is not via Redis")


def revocation_check(port: int, refresh: str, auth: dict) -> tuple[bool, str]:
    """After logout the very token that was measured must be refused at once."""
    body = json.dumps({"refresh": refresh})
    status, raw = http_call(
        port, "POST", LOGOUT_PATH, headers={"Content-Type": "application/json"}, body=body
    )
    if status != 204:
        return False, f"logout returned {status}: {raw[:200]!r}"
    status, raw = http_call(port, "GET", ME_PATH, headers=auth)
    if status != 401:
        return False, f"the measured token is still accepted after logout ({status})"
    return True, f"after logout the measured token gets 401 {json.loads(raw)['error']['code']}"


# --- Report -------------------------------------------------------------------------------------


def figures(bare: Target, me: Target, ratio: float, valid: bool, revoked: bool) -> list[dict]:
    verdict = ("PASS" if ratio >= TARGET_RATIO else "FAIL") if valid else "INVALID"
    return [
        {"figure": "bare JsonResponse view, req/s", "value": f"{bare.rps:.0f}"},
        {"figure": "GET /api/users/me/, req/s", "value": f"{me.rps:.0f}"},
        {
            "figure": "me / bare throughput ratio",
            "value": f"{ratio:.2f}",
            "target": f">= {TARGET_RATIO:.2f}",
            "verdict": verdict,
        },
        {
            "figure": "gunicorn CPU per request, me / bare",
            "value": f"{me.cpu_ms_per_request:.2f} / {bare.cpu_ms_per_request:.2f} ms",
        },
        {
            "figure": "GET /api/users/me/ p50 / p99 latency",
            "value": f"{me.percentile_ms(50):.1f} / {me.percentile_ms(99):.1f} ms",
        },
        {
            "figure": "non-2xx/failed responses; token dead after logout",
            "value": f"{bare.errors + me.errors}; {'yes' if revoked else 'NO'}",
            "target": "0; yes",
            "verdict": "PASS" if valid else "FAIL",
        },
    ]


def print_targets(targets: list[Target]) -> None:
    print(
        f"{'target':<22}{'responses':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'server CPU ms/req':>19}"
    )
    for t in targets:
        print(
            f"{t.label:<22}{t.responses:>10}{t.rps:>9.0f}{t.percentile_ms(50):>9.2f}"
            f"{t.percentile_ms(99):>9.2f}{t.errors:>8}{t.cpu_ms_per_request:>19.2f}"
        )
        bad = {str(s): n for s, n in t.statuses.items() if not 200 <= s < 300}
        if bad or t.failures:
            print(f"    non-2xx statuses {bad}, connection failures {dict(t.failures)}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    args = parser.parse_args()
    for name in ("duration", "concurrency", "workers", "slice", "max_requests"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def main() -> int:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C, so gunicorn and the client pool are stopped in `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = bench_env(database_url=args.database_url, redis_url=args.redis_url)
    os.environ.update(env)
    password = secrets.token_urlsafe(16)
    database_ensure(args.database_url)
    redis_clear(args.redis_url)
    django_prepare(password)

    slices = max(1, math.ceil(args.duration / args.slice))
    seconds = args.duration / slices
    cap = max(1, args.max_requests // (slices * args.concurrency))
    print(
        f"gunicorn {args.workers} sync workers, settings bench.settings, "
        f"{urlsplit(args.database_url).path.lstrip('/')} on PostgreSQL, Redis {args.redis_url}"
    )
    print(
        f"load: {args.concurrency} client processes (http.client), {args.duration:g} s per URL "
        f"in {slices} alternating slices after {args.warmup:g} s warm-up each; "
        f"load average before {os.getloadavg()[0]:.2f}"
    )

    pool = None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        try:
            with gunicorn_server(env, args.workers, Path(tmp) / "gunicorn.log") as server:
                port = server.port
                session = login(port, password)
                auth = {"Authorization": f"Bearer {session['access']}"}
                sanity_check(port, auth, jwt_claims(session["access"])["sid"])
                bare = Target("bare JsonResponse", BARE_PATH, BASE_HEADERS)
                me = Target("GET /api/users/me/", ME_PATH, {**BASE_HEADERS, **auth})
                pool = multiprocessing.get_context("spawn").Pool(
                    args.concurrency, initializer=_client_init
                )
                if args.warmup > 0:
                    for target in (bare, me):
                        run_slice(pool, server, target, args.warmup, args.concurrency, cap)
                # ABBA order cancels a linear drift (other load on the host) between the two.
                for i in range(slices):
                    for target in (bare, me) if i % 2 == 0 else (me, bare):
                        target.add(*run_slice(pool, server, target, seconds, args.concurrency, cap))
                pool.close()
                revoked, revocation = revocation_check(port, session["refresh"], auth)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()

    print_targets([bare, me])
    valid = revoked and bare.errors == me.errors == 0 and bare.responses > 0 and me.responses > 0
    ratio = me.rps / bare.rps if bare.rps else 0.0
    verdict = ("PASS" if ratio >= TARGET_RATIO else "FAIL") if valid else "INVALID (errors)"
    print(f"ratio me / bare: {ratio:.2f} (target >= {TARGET_RATIO}): {verdict}")
    print(f"revocation: {revocation}")
    if args.json_out:
        args.json_out.write_text(json.dumps(figures(bare, me, ratio, valid, revoked)))
    return 0 if valid else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; gunicorn and the clients were stopped", file=sys.stderr)
        sys.exit(130)

"""What the gunicorn benchmarks share: the stack (tools.stack's without nginx, one gunicorn of
sync workers on `bench.settings`), the true floor next to it (`floor_server`) or a second
gunicorn of ours with other settings (`second_server`), the load (client processes until a shared
deadline, each URL's time cut into alternating slices, CPU sampled), the command line and the
figures. Client processes import this module: nothing here imports Django at module level."""

import argparse
import contextlib
import functools
import http.client
import json
import math
import multiprocessing
import os
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.floor import FLOOR_PATH
from bench.floor import SETTINGS as FLOOR_SETTINGS
from bench.floor import WSGI_APP as FLOOR_WSGI_APP
from bench.floor import server as floor_serving
from tools import app, cpu, fixtures
from tools.app import PROXIED
from tools.clients import connect, percentile, starting_at, wait_for
from tools.procs import free_port, stop, wait_until
from tools.stack import stack

BARE_PATH = "/bench/bare/"
BASE_HEADERS = {**PROXIED, "Accept": "application/json"}
JSON_HEADERS = {**BASE_HEADERS, "Content-Type": "application/json"}
REQUEST_TIMEOUT = 10.0
# The stream view's chunk size (core.protected_files), used by clients reading bodies and files.
CHUNK = 256 * 1024


@contextlib.contextmanager
def served(args, **overrides: str):
    """The stack with one gunicorn of `args.workers` sync workers, and Django set up in this
    process on its database; `overrides` are environment variables for Django."""
    settings = {"DJANGO_SETTINGS_MODULE": "bench.settings", **overrides}
    with stack(instances=1, workers=args.workers, with_nginx=False, **settings) as running:
        fixtures.django_setup(running.env)
        yield running


@contextlib.contextmanager
def floor_server(args, running):
    """The true floor (bench/floor/: Django, CommonMiddleware, one JSON view; nothing of ours)
    on its own loopback port, served as our application is (the same gunicorn command line,
    `args.workers` sync workers, the stack's environment but for the settings module); yields
    its port once it answers. Its processes are the CPU group "floor" while it runs."""
    env = {**running.env, "DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS,
           "BENCH_FLOOR_SECRET_KEY": secrets.token_urlsafe(50)}  # fmt: skip
    with _gunicorn_beside(args, running, "floor", env, _floor_ready, app=FLOOR_WSGI_APP) as port:
        yield port


def _floor_ready(port: int) -> bool:
    if not floor_serving.answers(port, BASE_HEADERS):
        return False
    # Our URLs must not be there: it is another project, not ours on another port.
    if (status := floor_serving.get(port, BARE_PATH, BASE_HEADERS)[0]) != 404:
        raise RuntimeError(f"the floor answered {status} for {BARE_PATH}, not 404")
    return True


@contextlib.contextmanager
def second_server(args, running, group: str, **overrides: str):
    """Another gunicorn of ours on the stack (its database and Redis, the same command line and
    environment but for `overrides`) on its own loopback port; yields the port once it is
    healthy. Its processes are the CPU group `group` while it runs."""
    with _gunicorn_beside(args, running, group, {**running.env, **overrides}, app.healthy) as port:
        yield port


@contextlib.contextmanager
def _gunicorn_beside(args, running, group: str, env: dict, ready, **gunicorn_options):
    """`tools.app.gunicorn` with `env` on a free port, sampled as `group`, until `ready(port)`
    (its log's tail on stderr if it never is); stopped on the way out."""
    port, log = free_port(), running.run_dir / "logs" / f"{group}.log"
    process = app.gunicorn(env, port, log, workers=args.workers, **gunicorn_options)
    running.processes[group] = process
    try:
        try:
            wait_until(functools.partial(ready, port), f"starting {group}", {group: process})
        except RuntimeError:
            print(*log.read_text(errors="replace").splitlines()[-30:], sep="\n", file=sys.stderr)
            raise
        yield port
    finally:
        stop({group: process})
        running.processes.pop(group, None)


def floor_target(port: int, **options) -> "Target":
    """The floor's view under load: its port, and its own CPU group as the server's."""
    return Target("true floor", FLOOR_PATH, BASE_HEADERS, port=port, server="floor", **options)


def ratio(numerator: "Target", denominator: "Target") -> float:
    """Throughput of one target over another's (0 when the other answered nothing)."""
    return numerator.rps / denominator.rps if denominator.rps else 0.0


def tokens_outlive(seconds: float) -> None:
    """Refuse a load that would outlast the access tokens just prepared (with a minute spare)."""
    from django.conf import settings

    if seconds + 60 > settings.ACCESS_TOKEN_LIFETIME.total_seconds():
        raise RuntimeError("the access tokens expire before the load ends: shorten --duration")


def cpu_groups(running) -> dict[str, set[int]]:
    """gunicorn (and nginx if it runs), PostgreSQL and Redis: the root processes to sample."""
    groups = {"postgres": {running.postgres.process.pid}, "redis": {running.redis.process.pid}}
    for name, process in running.processes.items():
        groups.setdefault(name.split("-")[0], set()).add(process.pid)
    return groups


# --- Load generator (runs in spawned client processes) ------------------------------------------


def _read(path: str, byte_range: str | None) -> int:
    """Open, seek and read in CHUNK pieces, as core.protected_files does; the bytes read."""
    first, last = 0, os.path.getsize(path) - 1
    if byte_range:
        first, last = map(int, byte_range.removeprefix("bytes=").split("-"))
    got, remaining = 0, last - first + 1
    with open(path, "rb") as handle:
        handle.seek(first)
        while remaining > 0 and (chunk := handle.read(min(CHUNK, remaining))):
            got, remaining = got + len(chunk), remaining - len(chunk)
    if remaining:
        raise OSError(f"{remaining} bytes short")
    return got


def _load(job: tuple) -> dict:
    """Send requests one after another until the deadline; one client of the concurrency.
    `job`: the target (as pickled: what is sent), its port, start, seconds, cap and one-use
    (extra headers, body) requests if it has a supply."""
    target, port, start_at, seconds, limit, variants = job
    wait_for(start_at)
    deadline = start_at + seconds
    if variants is not None:
        limit = min(limit, len(variants))
    conn = None if target.file else connect(port, target.cafile, timeout=REQUEST_TIMEOUT)
    latencies, statuses, failures, received, sent = [], Counter(), Counter(), 0, 0
    rng = random.Random()
    while sent < limit and time.monotonic() < deadline:
        headers, body, expect = target.headers, target.body, target.expect
        if variants is not None:
            extra, body = variants[sent]
            headers = {**headers, **extra}
        if target.ranges:
            size, length = target.ranges
            first = rng.randrange(size - length + 1)
            span = f"{first}-{first + length - 1}"
            headers = {**headers, "Range": f"bytes={span}"}
            expect = {**expect, "Content-Range": f"bytes {span}/{size}"}
            expect["Content-Length"] = str(length)
        sent += 1
        began = time.perf_counter()
        try:
            if target.file:
                received += _read(target.file, headers.get("Range"))
                status = 200
            else:
                conn.request(target.method, target.path, body=body, headers=headers)
                response = conn.getresponse()
                while chunk := response.read(CHUNK):
                    received += len(chunk)
                status = response.status
                if any(response.getheader(name) != value for name, value in expect.items()):
                    failures["unexpected headers"] += 1
        except (OSError, http.client.HTTPException) as exc:
            failures[type(exc).__name__] += 1
            if conn:
                conn.close()
            continue
        latencies.append(time.perf_counter() - began)
        statuses[status] += 1
    if conn:
        conn.close()
    return {"latencies": latencies, "statuses": dict(statuses), "failures": dict(failures),
            "bytes": received, "sent": sent, "capped": sent >= limit,
            "ended": time.monotonic()}  # fmt: skip


# --- What the parent measures -------------------------------------------------------------------


SENT = ("path", "headers", "method", "body", "expect", "cafile", "file", "ranges")


@dataclass
class Target:
    """One URL (or file) under load and everything measured on it outside the warm-up."""

    label: str
    path: str
    headers: dict
    method: str = "GET"
    body: bytes | None = None
    # Statuses the scenario expects; None means any 2xx. Anything else is an error.
    ok_statuses: tuple | None = None
    # One-use (extra headers, body) per request, for requests that must differ (one user each).
    supply: list | None = None
    expect: dict = field(default_factory=dict)
    port: int | None = None  # another port than the stack's gunicorn (a proxy, the floor)
    server: str = "gunicorn"  # the CPU group that serves it: its "server CPU ms/req"
    cafile: str | None = None  # HTTPS, trusting this certificate
    file: str | None = None  # read this file instead of sending requests
    ranges: tuple[int, int] | None = None  # (size, length): a random range of each request
    clients: int | None = None  # client processes, if not the plan's concurrency
    latencies: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    warmup_statuses: Counter = field(default_factory=Counter)
    warmup_failures: Counter = field(default_factory=Counter)
    elapsed: float = 0.0
    bytes: int = 0
    # CPU seconds by process group, of the host ("host", "irq") and "wall" (seconds sampled).
    cpu: Counter = field(default_factory=Counter)
    capped_clients: int = 0

    def __getstate__(self) -> dict:
        """What a client process needs: neither the supply nor what was measured."""
        return {k: v for k, v in vars(self).items() if k in SENT}

    def add(self, start_at: float, results: list[dict], used: Counter) -> None:
        for result in results:
            self.latencies.extend(result["latencies"])
            self.statuses.update(result["statuses"])
            self.failures.update(result["failures"])
            self.bytes += result["bytes"]
            self.capped_clients += result["capped"]
        self.elapsed += max(result["ended"] for result in results) - start_at
        self.cpu.update(used)

    def add_warmup(self, results: list[dict]) -> None:
        for result in results:
            self.warmup_statuses.update(result["statuses"])
            self.warmup_failures.update(result["failures"])

    def is_ok(self, status: int) -> bool:
        return status in self.ok_statuses if self.ok_statuses else 200 <= status < 300

    def errors_in(self, statuses: Counter, failures: Counter) -> int:
        bad = sum(n for status, n in statuses.items() if not self.is_ok(status))
        return bad + sum(failures.values())

    def per_second(self, amount: float) -> float:
        return amount / self.elapsed if self.elapsed else 0.0

    errors = property(lambda self: self.errors_in(self.statuses, self.failures))
    # Errors of the warm-up too.
    all_errors = property(
        lambda self: self.errors + self.errors_in(self.warmup_statuses, self.warmup_failures)
    )
    responses = property(lambda self: len(self.latencies))
    rps = property(lambda self: self.per_second(self.responses))
    mb_per_second = property(lambda self: self.per_second(self.bytes / 1e6))

    def rate_of(self, status: int) -> float:
        return self.per_second(self.statuses[status])

    def cpu_ms(self, name: str | None = None) -> float:
        """CPU milliseconds of a group (by default the one serving it) per response."""
        name = name or self.server
        return self.cpu[name] * 1000 / self.responses if self.responses else math.nan

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


@dataclass(frozen=True)
class Plan:
    """How `duration` seconds per URL are cut into alternating slices."""

    duration: float
    warmup: float
    slices: int
    concurrency: int
    max_requests: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Plan":
        slices = max(1, math.ceil(args.duration / args.slice))
        return cls(args.duration, args.warmup, slices, args.concurrency, args.max_requests)

    rounds = property(lambda self: self.slices + (self.warmup > 0))  # slices per URL, warm-up too

    def cap(self, target: Target) -> int:
        """Bound on requests per client per slice (a supply is shared out over every slice)."""
        if target.supply is not None:
            return len(target.supply) // (self.rounds * (target.clients or self.concurrency))
        return max(1, self.max_requests // (self.slices * self.concurrency))


def run_slice(pool, running, target: Target, seconds: float, plan: Plan):
    """Load one target from every client at once for `seconds`; start, results and CPU used.
    With a supply, each client gets its own share of one-use requests; the unused go back."""
    groups = {**cpu_groups(running), "clients": {p.pid for p in multiprocessing.active_children()}}
    before, start_at = cpu.sample(groups), starting_at(0.3)
    clients, cap = target.clients or plan.concurrency, plan.cap(target)
    chunks = [None] * clients
    if target.supply is not None:
        chunks = [tuple(target.supply[i * cap : (i + 1) * cap]) for i in range(clients)]
        del target.supply[: clients * cap]
    port = target.port or running.gunicorn_ports[0]
    jobs = [(target, port, start_at, seconds, cap, chunk) for chunk in chunks]
    results = pool.map(_load, jobs, chunksize=1)
    used = cpu.sample(groups)
    used.subtract(before)
    if target.supply is not None:
        for chunk, result in zip(chunks, results, strict=True):
            target.supply.extend(chunk[result["sent"] :])
    return start_at, results, used


def measure(pool, running, targets: list[Target], plan: Plan) -> None:
    """Warm each target up, then load them in alternating slices: A B C, C B A, A B C, ...
    Reversing the order each round cancels a linear drift (other load on the host) between them.
    `running` is the stack: its first gunicorn is the default target, its processes sampled."""
    if plan.warmup > 0:
        for target in targets:
            target.add_warmup(run_slice(pool, running, target, plan.warmup, plan)[1])
    for i in range(plan.slices):
        for target in targets if i % 2 == 0 else reversed(targets):
            target.add(*run_slice(pool, running, target, plan.duration / plan.slices, plan))


def print_targets(targets: list[Target]) -> None:
    print(f"{'target':<22}{'responses':>10}{'req/s':>9}{'MB/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}{'server CPU ms/req':>19}")  # fmt: skip
    for t in targets:
        print(f"{t.label:<22}{t.responses:>10}{t.rps:>9.0f}{t.mb_per_second:>8.0f}"
              f"{t.percentile_ms(50):>9.2f}{t.percentile_ms(99):>9.2f}{t.errors:>8}"
              f"{t.cpu_ms():>19.2f}")  # fmt: skip
        bad = {str(s): n for s, n in t.statuses.items() if not t.is_ok(s)}
        if bad or t.failures:
            kind = "non-2xx" if t.ok_statuses is None else "unexpected"
            print(f"    {kind} statuses {bad}, failures {dict(t.failures)}")
        if t.capped_clients:
            print(f"    {t.capped_clients} client slices ran out of requests before the deadline")


# --- Command line and figures -------------------------------------------------------------------


def argument_parser(description: str, *, load: bool = True) -> argparse.ArgumentParser:
    """--json-out, and with `load` the options of a load measured in slices."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json-out", type=Path, help="also write the figures here (run_all)")
    if load:
        parser.add_argument("--duration", type=float, default=10.0, help="seconds per URL (10)")
        parser.add_argument("--concurrency", type=int, default=4, help="client processes (4)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
        parser.add_argument("--warmup", type=float, default=2.0, help="warm-up s per URL (2)")
        parser.add_argument("--slice", type=float, default=2.5, help="seconds per slice (2.5)")
        parser.add_argument("--max-requests", type=int, default=200_000, help="per URL (200000)")
    return parser


def parse_args(parser: argparse.ArgumentParser, positive: tuple[str, ...] = ()):
    args = parser.parse_args()
    load = ("duration", "concurrency", "workers", "slice", "max_requests")
    for name in (*(n for n in load if hasattr(args, n)), *positive):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def print_setup(args: argparse.Namespace, plan: Plan, what: str = "bench.settings",
                floor_port: int | None = None) -> None:  # fmt: skip
    print(f"gunicorn {args.workers} sync workers ({what}), private PostgreSQL and Redis")
    if floor_port is not None:
        print(f"true floor: the same gunicorn command on bench.floor (CommonMiddleware, one JSON "
              f"view, no database, nothing of ours), port {floor_port}")  # fmt: skip
    print(f"load: {plan.concurrency} client processes (http.client), {plan.duration:g} s per URL "
          f"in {plan.slices} alternating slices after {plan.warmup:g} s warm-up each; "
          f"load average before {os.getloadavg()[0]:.2f}")  # fmt: skip


def expect(client, status: int, method: str, path: str, **kwargs):
    """`client.send`, failing the run unless it answers `status`; the Reply."""
    reply = client.send(path, method, path, **kwargs)
    if reply.status != status:
        raise RuntimeError(f"{method} {path}: {reply.summary}, expected {status}: {reply.text}")
    return reply


def figure(name: str, value, target: str | None = None, passed: bool = True, valid: bool = True):
    """One row of the table run_all prints: judged when it has a target."""
    row = {"figure": name, "value": str(value)}
    verdict = "PASS" if passed and valid else ("FAIL" if valid else "INVALID")
    return row if target is None else {**row, "target": target, "verdict": verdict}


def floor_figures(floor: Target, bare: Target, run: str = "") -> list[dict]:
    """The true floor, our bare view and their ratio: what our middleware stack and production
    settings cost a request that does nothing (shown, not judged). `run` tells runs apart."""
    return [
        figure(f"true floor (bench.floor){run}, req/s", f"{floor.rps:.0f}"),
        figure(f"bare view on our stack{run}, req/s", f"{bare.rps:.0f}"),
        figure(f"bare / floor{run}: what our middleware and settings cost",
               f"{ratio(bare, floor):.2f}"),
    ]  # fmt: skip


def report(args, rows: list[dict]) -> None:
    """Print the figures; with `--json-out`, write them for run_all.py."""
    for row in rows:
        judged = f" (target {row['target']}: {row['verdict']})" if "verdict" in row else ""
        print(f"{row['figure']}: {row['value']}{judged}")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows))

"""The load of the gunicorn benchmarks and its targets: client processes sending requests until
a shared deadline, each URL's time cut into alternating slices, CPU sampled (`measure`), and what
each target measured (`Target`, `print_targets`). Client processes import this module: nothing
here imports Django at module level."""

import argparse
import http.client
import math
import multiprocessing
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.floor import FLOOR_PATH
from tools import cpu
from tools.app import PROXIED
from tools.clients import connect, percentile, starting_at, wait_for

BARE_PATH = "/bench/bare/"
BASE_HEADERS = {**PROXIED, "Accept": "application/json"}
JSON_HEADERS = {**BASE_HEADERS, "Content-Type": "application/json"}
REQUEST_TIMEOUT = 10.0
# The stream view's chunk size (core.protected_files), used by clients reading bodies and files.
CHUNK = 256 * 1024


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


def cpu_groups(running) -> dict[str, set[int]]:
    """gunicorn (and nginx if it runs), PostgreSQL and Redis: the root processes to sample."""
    groups = {"postgres": {running.postgres.process.pid}, "redis": {running.redis.process.pid}}
    for name, process in running.processes.items():
        groups.setdefault(name.split("-")[0], set()).add(process.pid)
    return groups


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


def floor_target(port: int, **options) -> Target:
    """The floor's view under load: its port, and its own CPU group as the server's."""
    return Target("true floor", FLOOR_PATH, BASE_HEADERS, port=port, server="floor", **options)


def ratio(numerator: Target, denominator: Target) -> float:
    """Throughput of one target over another's (0 when the other answered nothing)."""
    return numerator.rps / denominator.rps if denominator.rps else 0.0

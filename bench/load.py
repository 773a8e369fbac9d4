"""The load of the gunicorn benchmarks: client processes, what they send, and what is measured.

Clients are spawned processes that send requests with `http.client` (HTTP, or HTTPS with a given
CA) one after another until a shared deadline; the parent cuts each URL's time into alternating
slices and samples the CPU of the server, the services and the host around each slice. No Django
here: clients import this.
"""

import argparse
import contextlib
import http.client
import math
import multiprocessing
import os
import signal
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0
START_SLACK = 0.3


# --- Load generator (runs in spawned client processes) ------------------------------------------


def _client_init() -> None:
    # Ctrl-C is handled once, by the parent, which then terminates the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass(frozen=True)
class Tls:
    """HTTPS to a server presenting a certificate for `server_name` signed by `cafile` (a PEM)."""

    server_name: str
    cafile: str


@dataclass(frozen=True)
class LoadJob:
    """What one client process sends during one slice."""

    port: int
    method: str
    path: str
    headers: dict
    body: bytes | None
    start_at: float
    seconds: float
    max_requests: int
    # One (extra headers, body) per request, each sent at most once; None repeats the request.
    variants: tuple | None = None
    tls: Tls | None = None


def _connection(job: LoadJob) -> http.client.HTTPConnection:
    """A keep-alive connection to the job's port: plain HTTP to HOST, or HTTPS by server name.

    The certificate is verified as a browser would (name and chain), so the handshake costs what
    it costs in production; the SSL context is built once and reused on every reconnect.
    """
    if job.tls is None:
        return http.client.HTTPConnection(HOST, job.port, timeout=REQUEST_TIMEOUT)
    context = ssl.create_default_context(cafile=job.tls.cafile)
    return http.client.HTTPSConnection(
        job.tls.server_name, job.port, timeout=REQUEST_TIMEOUT, context=context
    )


def _load(job: LoadJob) -> dict:
    """Send requests one after another until the shared deadline; one client of the concurrency."""
    while (pause := job.start_at - time.monotonic()) > 0:
        time.sleep(pause)
    deadline = job.start_at + job.seconds
    limit = job.max_requests
    if job.variants is not None:
        limit = min(limit, len(job.variants))
    latencies, statuses, failures = [], Counter(), Counter()
    conn = _connection(job)
    sent = 0
    while sent < limit and time.monotonic() < deadline:
        headers, body = job.headers, job.body
        if job.variants is not None:
            extra, body = job.variants[sent]
            headers = {**headers, **extra}
        sent += 1
        began = time.perf_counter()
        try:
            conn.request(job.method, job.path, body=body, headers=headers)
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
        "sent": sent,
        "capped": sent >= limit,
        "ended": time.monotonic(),
    }


@dataclass
class Target:
    """One URL under load and everything measured on it outside the warm-up."""

    label: str
    path: str
    headers: dict
    method: str = "GET"
    body: bytes | None = None
    # Statuses the scenario expects; None means any 2xx. Anything else is an error.
    ok_statuses: tuple | None = None
    # One-use (extra headers, body) per request, for requests that must differ (one user each).
    supply: list | None = None
    # Another port than the server's (a proxy in front of it), and HTTPS to it.
    port: int | None = None
    tls: Tls | None = None
    latencies: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)
    warmup_statuses: Counter = field(default_factory=Counter)
    warmup_failures: Counter = field(default_factory=Counter)
    elapsed: float = 0.0
    # CPU seconds by process group, of the host ("host", "irq") and "wall" (seconds sampled).
    cpu: Counter = field(default_factory=Counter)
    capped_clients: int = 0

    def add(self, start_at: float, results: list[dict], cpu: Counter) -> None:
        for result in results:
            self.latencies.extend(result["latencies"])
            self.statuses.update(result["statuses"])
            self.failures.update(result["failures"])
            self.capped_clients += result["capped"]
        self.elapsed += max(result["ended"] for result in results) - start_at
        self.cpu.update(cpu)

    def add_warmup(self, results: list[dict]) -> None:
        for result in results:
            self.warmup_statuses.update(result["statuses"])
            self.warmup_failures.update(result["failures"])

    def is_ok(self, status: int) -> bool:
        return status in self.ok_statuses if self.ok_statuses else 200 <= status < 300

    def errors_in(self, statuses: Counter, failures: Counter) -> int:
        bad = sum(n for status, n in statuses.items() if not self.is_ok(status))
        return bad + sum(failures.values())

    @property
    def responses(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return self.errors_in(self.statuses, self.failures)

    @property
    def rps(self) -> float:
        return self.responses / self.elapsed if self.elapsed else 0.0

    def rate_of(self, status: int) -> float:
        return self.statuses[status] / self.elapsed if self.elapsed else 0.0

    def cpu_ms_per_request(self, name: str = "gunicorn") -> float:
        return self.cpu[name] * 1000 / self.responses if self.responses else math.nan

    def percentile_ms(self, p: float) -> float:
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


def cpu_seconds(groups: dict[str, set[int]]) -> Counter:
    """User + system CPU so far of each group: its processes and their children (Linux /proc).

    A process that exited since an earlier sample takes its CPU with it, so a difference between
    two samples can come out slightly low (PostgreSQL backends of other clients come and go).
    """
    tick = os.sysconf("SC_CLK_TCK")
    totals = Counter(dict.fromkeys(groups, 0.0))
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid, parent = int(stat.parent.name), int(fields[1])
            for name, pids in groups.items():
                if pid in pids or parent in pids:
                    totals[name] += (int(fields[11]) + int(fields[12])) / tick
                    break
    return totals


def host_cpu_seconds() -> Counter:
    """CPU time of the whole host so far, summed over cores (Linux /proc/stat; else zeros).

    "host": time in processes (user, nice, system), comparable with the per-process figures;
    "irq": interrupts and softirqs, much of it loopback TCP, which no process is charged for.
    """
    with contextlib.suppress(OSError, ValueError, IndexError):
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        tick = os.sysconf("SC_CLK_TCK")
        # user nice system idle iowait irq softirq steal ...
        return Counter({"host": sum(ticks[:3]) / tick, "irq": (ticks[5] + ticks[6]) / tick})
    return Counter()


def _cpu_sample(server) -> Counter:
    """CPU so far of gunicorn, the watched services, the client processes and the whole host."""
    groups = {"gunicorn": {server.pid}}
    groups.update({name: {pid} for name, pid in server.watched.items()})
    groups["clients"] = {process.pid for process in multiprocessing.active_children()}
    sample = cpu_seconds(groups)
    sample.update(host_cpu_seconds())
    sample["wall"] = time.monotonic()
    return sample


def run_slice(pool, server, target: Target, seconds: float, concurrency: int, cap: int):
    """Load one URL from every client at once for `seconds`; returns start, results, CPU.

    With a supply, each client gets its own `cap` one-use requests; the unused ones go back.
    """
    cpu_before = _cpu_sample(server)
    start_at = time.monotonic() + START_SLACK
    chunks = [None] * concurrency
    if target.supply is not None:
        chunks = [tuple(target.supply[i * cap : (i + 1) * cap]) for i in range(concurrency)]
        del target.supply[: concurrency * cap]
    jobs = [
        LoadJob(
            port=target.port or server.port,
            method=target.method,
            path=target.path,
            headers=target.headers,
            body=target.body,
            start_at=start_at,
            seconds=seconds,
            max_requests=cap,
            variants=chunk,
            tls=target.tls,
        )
        for chunk in chunks
    ]
    results = pool.map(_load, jobs, chunksize=1)
    cpu = _cpu_sample(server)
    cpu.subtract(cpu_before)
    if target.supply is not None:
        for chunk, result in zip(chunks, results, strict=True):
            target.supply.extend(chunk[result["sent"] :])
    return start_at, results, cpu


@dataclass(frozen=True)
class Plan:
    """How `duration` seconds per URL are cut into alternating slices."""

    duration: float
    warmup: float
    slices: int
    seconds: float
    concurrency: int
    max_requests: int

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Plan":
        slices = max(1, math.ceil(args.duration / args.slice))
        return cls(
            duration=args.duration,
            warmup=args.warmup,
            slices=slices,
            seconds=args.duration / slices,
            concurrency=args.concurrency,
            max_requests=args.max_requests,
        )

    @property
    def rounds(self) -> int:
        """Slices per URL, warm-up included."""
        return self.slices + (1 if self.warmup > 0 else 0)

    def cap(self, target: Target) -> int:
        """Bound on requests per client per slice (a supply is shared out over every slice)."""
        if target.supply is not None:
            return len(target.supply) // (self.rounds * self.concurrency)
        return max(1, self.max_requests // (self.slices * self.concurrency))


def measure(pool, server, targets: list[Target], plan: Plan) -> None:
    """Warm each URL up, then load them in alternating slices: A B C, C B A, A B C, ...

    Reversing the order each round cancels a linear drift (other load on the host) between them.
    """
    caps = [plan.cap(target) for target in targets]
    if plan.warmup > 0:
        for target, cap in zip(targets, caps, strict=True):
            _start, results, _cpu = run_slice(
                pool, server, target, plan.warmup, plan.concurrency, cap
            )
            target.add_warmup(results)
    pairs = list(zip(targets, caps, strict=True))
    for i in range(plan.slices):
        for target, cap in pairs if i % 2 == 0 else reversed(pairs):
            target.add(*run_slice(pool, server, target, plan.seconds, plan.concurrency, cap))


@contextlib.contextmanager
def client_pool(concurrency: int):
    """Spawned client processes, terminated on the way out whatever happens."""
    pool = multiprocessing.get_context("spawn").Pool(concurrency, initializer=_client_init)
    try:
        yield pool
        pool.close()
    finally:
        pool.terminate()
        pool.join()


# --- Report -------------------------------------------------------------------------------------


def print_targets(targets: list[Target]) -> None:
    print(
        f"{'target':<22}{'responses':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'server CPU ms/req':>19}"
    )
    for t in targets:
        print(
            f"{t.label:<22}{t.responses:>10}{t.rps:>9.0f}{t.percentile_ms(50):>9.2f}"
            f"{t.percentile_ms(99):>9.2f}{t.errors:>8}{t.cpu_ms_per_request():>19.2f}"
        )
        bad = {str(s): n for s, n in t.statuses.items() if not t.is_ok(s)}
        if bad or t.failures:
            kind = "non-2xx" if t.ok_statuses is None else "unexpected"
            print(f"    {kind} statuses {bad}, connection failures {dict(t.failures)}")
        if t.capped_clients:
            print(f"    {t.capped_clients} client slices ran out of requests before the deadline")

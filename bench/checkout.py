"""Complete purchases per second on gunicorn: cart, order, payment, sandbox approval, approve.

Each flow is one distinct buyer with their own access token: `POST /api/cart/items/`,
`POST /api/orders/` from the cart, `POST /api/payments/` with the sandbox provider (and an
Idempotency-Key), the sandbox checkout page's `?action=approve` (a 302 carrying `pg_token`), and
`GET /api/payments/{id}/approve/`. Several client processes run flows side by side; afterwards the
database must hold exactly the purchases answered, and nothing half-written. Before the load, in
process, the SQL queries of each step are counted for orders of 1 and of 3 courses, and of
curriculums of 1 and of 3 courses.
"""

import argparse
import http.client
import io
import json
import math
import multiprocessing
import os
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as `python bench/checkout.py`: make the `bench` package importable.
    sys.path.insert(0, str(ROOT))

from bench import harness, load  # noqa: E402
from bench.checkout_fixture import (  # noqa: E402
    CART_ITEMS_PATH,
    CART_PATH,
    COURSE_PRICE,
    ORDERS_PATH,
    PAYMENTS_PATH,
    Fixture,
    approve_path,
    consistency_check,
    django_prepare,
)
from bench.harness import BASE_HEADERS, JSON_HEADERS  # noqa: E402
from bench.load import HOST, REQUEST_TIMEOUT, START_SLACK  # noqa: E402

STEPS = ("cart", "order", "payment", "sandbox", "approve")
EXPECTED = {"cart": 201, "order": 201, "payment": 201, "sandbox": 302, "approve": 200}
FROM_CART = json.dumps({"from_cart": True}).encode()
# Measured on the 2-core bench host (2 sync workers, 4 clients, PostgreSQL and Redis on the same
# cores): 41 flows/s when it was nearly quiet, 21-33 while other people's tests took about 40 % of
# its CPU; gunicorn's CPU per flow stayed at 27-30 ms throughout. 20 is half the quiet figure: a
# shared host still passes, and a step whose cost doubles does not.
TARGET_FLOWS_PER_SECOND = 20.0
RATE_FIGURE = "checkout flows/s (5 steps, one distinct buyer each)"
# Above this share of the host's CPU used by other work during the load, the run says so.
OTHER_SHARE_WARNING = 0.15
# Seconds of margin between the end of the planned load and the expiry of the prepared tokens.
TOKEN_MARGIN = 60.0
# Sizes compared in the query count: each pair must run the same queries at every step.
SIZE_PAIRS = (("course x1", "courses x3"), ("curriculum of 1", "curriculum of 3"))


def request(conn, method: str, path: str, headers: dict, body: bytes | None = None):
    """One request on `conn`; its status, headers and body. Redirects are not followed."""
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.headers, response.read()


# --- Flows (run in spawned client processes) ----------------------------------------------------


@dataclass(frozen=True)
class FlowJob:
    """The buyers one client process takes through the flow, one after another."""

    port: int
    buyers: tuple  # (access token, course id)
    start_at: float
    seconds: float


class _Recorder:
    """Latency, status and failures of every step one client sent."""

    def __init__(self):
        self.latencies = {step: [] for step in STEPS}
        self.statuses = {step: Counter() for step in STEPS}
        self.failures = {step: Counter() for step in STEPS}
        self.samples = []

    def send(self, conn, step: str, method: str, path: str, headers: dict, body=None):
        """(headers, body) of the answer, or None if it failed or had another status."""
        began = time.perf_counter()
        try:
            status, head, raw = request(conn, method, path, headers, body)
        except (OSError, http.client.HTTPException) as exc:
            self.failures[step][type(exc).__name__] += 1
            conn.close()
            return None
        self.latencies[step].append(time.perf_counter() - began)
        self.statuses[step][status] += 1
        if status != EXPECTED[step]:
            if len(self.samples) < 3:
                self.samples.append(f"{step} {status}: {raw[:200]!r}")
            return None
        return head, raw

    def pick(self, step: str, answer, read):
        """`read(headers, body)`, or None (a failure of the step) if the answer lacks it."""
        if answer is None:
            return None
        try:
            return read(*answer)
        except (ValueError, KeyError, TypeError, IndexError, AttributeError):
            self.failures[step]["unexpected body"] += 1
            return None


def _payment_started(_head, raw: bytes) -> tuple[int, str]:
    body = json.loads(raw)
    return body["payment"]["id"], urlsplit(body["redirect_url"]).path + "?action=approve"


def _pg_token(head, _raw) -> str:
    return parse_qs(urlsplit(head["Location"]).query)["pg_token"][0]


def _flow(rec: _Recorder, conn, token: str, course_id: int) -> bool:
    auth = {**JSON_HEADERS, "Authorization": f"Bearer {token}"}
    item = json.dumps({"course": course_id}).encode()
    if rec.send(conn, "cart", "POST", CART_ITEMS_PATH, auth, item) is None:
        return False
    answer = rec.send(conn, "order", "POST", ORDERS_PATH, auth, FROM_CART)
    order_id = rec.pick("order", answer, lambda _h, raw: json.loads(raw)["id"])
    if order_id is None:
        return False
    body = json.dumps({"order": order_id, "provider": "sandbox"}).encode()
    keyed = {**auth, "Idempotency-Key": uuid.uuid4().hex}
    answer = rec.send(conn, "payment", "POST", PAYMENTS_PATH, keyed, body)
    started = rec.pick("payment", answer, _payment_started)
    if started is None:
        return False
    payment_id, sandbox_path = started
    # The buyer's browser on the provider's page: no token of ours.
    answer = rec.send(conn, "sandbox", "GET", sandbox_path, BASE_HEADERS)
    pg_token = rec.pick("sandbox", answer, _pg_token)
    if pg_token is None:
        return False
    answer = rec.send(conn, "approve", "GET", approve_path(payment_id, pg_token), auth)
    status = rec.pick("approve", answer, lambda _h, raw: json.loads(raw)["status"])
    if status is not None and status != "paid":
        rec.failures["approve"][f"status {status}"] += 1
    return status == "paid"


def _run_flows(job: FlowJob) -> dict:
    """Start flows one after another until the buyers or the time run out; one client."""
    while (pause := job.start_at - time.monotonic()) > 0:
        time.sleep(pause)
    deadline = job.start_at + job.seconds
    rec = _Recorder()
    conn = http.client.HTTPConnection(HOST, job.port, timeout=REQUEST_TIMEOUT)
    started, flow_seconds = 0, []
    for token, course_id in job.buyers:
        if time.monotonic() >= deadline:
            break
        started += 1
        began = time.perf_counter()
        if _flow(rec, conn, token, course_id):
            flow_seconds.append(time.perf_counter() - began)
    conn.close()
    return {
        "latencies": rec.latencies,
        "statuses": rec.statuses,
        "failures": rec.failures,
        "samples": rec.samples,
        "started": started,
        "flow_seconds": flow_seconds,
        "ended": time.monotonic(),
    }


@dataclass
class Round:
    """Every client's flows of one round (warm-up or measured), merged."""

    latencies: dict = field(default_factory=lambda: {step: [] for step in STEPS})
    statuses: dict = field(default_factory=lambda: {step: Counter() for step in STEPS})
    failures: dict = field(default_factory=lambda: {step: Counter() for step in STEPS})
    samples: list = field(default_factory=list)
    started: int = 0
    flow_seconds: list = field(default_factory=list)
    elapsed: float = 0.0

    @classmethod
    def run(cls, pool, port: int, buyers: list, concurrency: int, seconds: float) -> "Round":
        start_at = time.monotonic() + START_SLACK
        jobs = [
            FlowJob(port, tuple(buyers[i::concurrency]), start_at, seconds)
            for i in range(concurrency)
        ]
        merged = cls()
        results = pool.map(_run_flows, jobs, chunksize=1)
        for result in results:
            for step in STEPS:
                merged.latencies[step].extend(result["latencies"][step])
                merged.statuses[step].update(result["statuses"][step])
                merged.failures[step].update(result["failures"][step])
            merged.samples.extend(result["samples"])
            merged.started += result["started"]
            merged.flow_seconds.extend(result["flow_seconds"])
        merged.elapsed = max(result["ended"] for result in results) - start_at
        return merged

    @property
    def completed(self) -> int:
        return len(self.flow_seconds)

    @property
    def rate(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def unexpected(self, step: str) -> dict:
        bad = {str(s): n for s, n in self.statuses[step].items() if s != EXPECTED[step]}
        return {**bad, **self.failures[step]}

    @property
    def errors(self) -> int:
        return sum(sum(self.unexpected(step).values()) for step in STEPS)


def percentile_ms(seconds: list[float], p: float) -> float:
    if not seconds:
        return float("nan")
    ordered = sorted(seconds)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


# --- Checks before the load ---------------------------------------------------------------------


def _expect(conn, method, path, headers, body, status) -> tuple:
    got, head, raw = request(conn, method, path, headers, body)
    if got != status:
        raise RuntimeError(f"{method} {path} returned {got}, expected {status}: {raw[:300]!r}")
    return head, (json.loads(raw) if raw else None)


def sanity_check(port: int, fixture: Fixture) -> None:
    """Fail before loading if the flow would not measure what it claims to; the probe buys."""
    token, course_id = fixture.probe
    auth = {**JSON_HEADERS, "Authorization": f"Bearer {token}"}
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        item = json.dumps({"course": course_id}).encode()
        _expect(conn, "POST", CART_ITEMS_PATH, JSON_HEADERS, item, 401)
        if _expect(conn, "POST", CART_ITEMS_PATH, auth, item, 201)[1]["course"] != course_id:
            raise RuntimeError("the cart holds another course")
        order = _expect(conn, "POST", ORDERS_PATH, auth, FROM_CART, 201)[1]
        if (order["status"], order["total"], len(order["lines"])) != ("pending", COURSE_PRICE, 1):
            raise RuntimeError(f"unexpected order: {order}")
        body = json.dumps({"order": order["id"], "provider": "sandbox"}).encode()
        keyed = {**auth, "Idempotency-Key": uuid.uuid4().hex}
        started = _expect(conn, "POST", PAYMENTS_PATH, keyed, body, 201)[1]
        head, replayed = _expect(conn, "POST", PAYMENTS_PATH, keyed, body, 201)
        payment_id = started["payment"]["id"]
        if head["Idempotent-Replayed"] != "true" or replayed["payment"]["id"] != payment_id:
            raise RuntimeError("the same Idempotency-Key did not replay the same payment")
        sandbox = urlsplit(started["redirect_url"]).path + "?action=approve"
        location = _expect(conn, "GET", sandbox, BASE_HEADERS, None, 302)[0]["Location"]
        approval = approve_path(payment_id, "")
        if not urlsplit(location)._replace(scheme="", netloc="").geturl().startswith(approval):
            raise RuntimeError(f"the sandbox sent the buyer to {location}, not {approval}...")
        path = approve_path(payment_id, _pg_token({"Location": location}, b""))
        paid = _expect(conn, "GET", path, auth, None, 200)[1]
        if (paid["status"], paid["amount"]) != ("paid", COURSE_PRICE):
            raise RuntimeError(f"the approved payment is {paid}")
        if _expect(conn, "GET", path, auth, None, 200)[1] != paid:
            raise RuntimeError("approving again did not return the same paid payment")
    finally:
        conn.close()


# --- SQL queries per step, in process -----------------------------------------------------------


def _wsgi(app, method: str, path: str, headers: dict, body: bytes = b""):
    """One request through the WSGI application in this process: status, headers, body."""
    from bench.profile_me import wsgi_environ

    path, _, query = path.partition("?")
    environ = wsgi_environ(path, headers, method)
    environ.update(
        QUERY_STRING=query, CONTENT_LENGTH=str(len(body)), **{"wsgi.input": io.BytesIO(body)}
    )
    answer = {}

    def start_response(status, response_headers, *_):
        answer.update(status=int(status.split()[0]), headers=dict(response_headers))

    response = app(environ, start_response)
    raw = b"".join(response)
    response.close()
    return answer["status"], answer["headers"], raw


def _flow_sql(app, token: str, basket: list[dict]) -> dict[str, list[str]]:
    """The SQL of each step of one buyer's purchase of `basket`; the cart step adds its last
    item (to a cart that holds the others)."""
    from django.db import connection

    auth = {**JSON_HEADERS, "Authorization": f"Bearer {token}"}
    sql = {}

    def call(step, method, path, headers, body=b"", status=None):
        queries = []

        def record(execute, query, params, many, context):
            queries.append(query)
            return execute(query, params, many, context)

        with connection.execute_wrapper(record):
            got, head, raw = _wsgi(app, method, path, headers, body)
        if got != (status or EXPECTED[step]):
            raise RuntimeError(f"in-process {method} {path} returned {got}: {raw[:300]!r}")
        if step in STEPS:
            sql[step] = queries
        return head, raw

    # The session's verdict is cached on the first request: every buyer starts from a warm one.
    call(None, "GET", CART_PATH, auth, status=200)
    for product in basket[:-1]:
        call(None, "POST", CART_ITEMS_PATH, auth, json.dumps(product).encode(), 201)
    call("cart", "POST", CART_ITEMS_PATH, auth, json.dumps(basket[-1]).encode())
    order = json.loads(call("order", "POST", ORDERS_PATH, auth, FROM_CART)[1])
    body = json.dumps({"order": order["id"], "provider": "sandbox"}).encode()
    keyed = {**auth, "Idempotency-Key": uuid.uuid4().hex}
    started = call("payment", "POST", PAYMENTS_PATH, keyed, body)[1]
    payment_id, sandbox = _payment_started(None, started)
    head, _raw = call("sandbox", "GET", sandbox, BASE_HEADERS)
    paid = call("approve", "GET", approve_path(payment_id, _pg_token(head, b"")), auth)[1]
    if json.loads(paid)["status"] != "paid":
        raise RuntimeError("the in-process purchase was not paid")
    return sql


def queries_per_step(fixture: Fixture) -> dict[str, dict[str, list[str]]]:
    """Label -> step -> SQL; the first buyer only warms the process up and is left out."""
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    app = get_wsgi_application()
    measured = {
        label: _flow_sql(app, token, basket)
        for label, (token, basket) in fixture.query_buyers.items()
    }
    connections.close_all()
    measured.pop("warm-up")
    return measured


def _shape(query: str) -> str:
    # An IN list's length is the order size, not another query.
    return re.sub(r"\(%s(?:, %s)*\)", "(...)", query)


def print_queries(measured: dict, show_sql: bool) -> bool:
    """The side-by-side table; True if every pair of sizes runs as many queries at every step."""
    labels = list(measured)
    print("SQL queries per step, in process (cart: the last item added to the cart):")
    print(f"  {'step':<10}" + "".join(f"{label:>17}" for label in labels))
    for step in STEPS:
        print(f"  {step:<10}" + "".join(f"{len(measured[lb][step]):>17}" for lb in labels))
    constant = True
    for small, large in SIZE_PAIRS:
        for step in STEPS:
            fewer, more = measured[small][step], measured[large][step]
            if len(fewer) == len(more):
                continue
            constant = False
            print(f"  {step}: {small} {len(fewer)} queries, {large} {len(more)}; extra in {large}:")
            extra = Counter(map(_shape, more)) - Counter(map(_shape, fewer))
            for query, n in extra.items():
                print(f"    {n} x {query[:300]}")
    if show_sql:
        for step in STEPS:
            print(f"  SQL of {step}, courses x3:")
            for query in measured["courses x3"][step]:
                print(f"    {_shape(query)[:160]}")
    return constant


# --- Report and main ----------------------------------------------------------------------------


def print_steps(measured: Round) -> None:
    print(f"{'step':<10}{'expected':>9}{'count':>8}{'p50 ms':>9}{'p95 ms':>9}  unexpected")
    for step in STEPS:
        latencies = measured.latencies[step]
        print(
            f"{step:<10}{EXPECTED[step]:>9}{len(latencies):>8}{percentile_ms(latencies, 50):>9.1f}"
            f"{percentile_ms(latencies, 95):>9.1f}  {measured.unexpected(step) or '-'}"
        )
    flows = measured.flow_seconds
    print(
        f"{'flow':<10}{'5 steps':>9}{len(flows):>8}{percentile_ms(flows, 50):>9.1f}"
        f"{percentile_ms(flows, 95):>9.1f}"
    )


def cpu_sample(groups: dict[str, set[int]]) -> Counter:
    """CPU seconds so far of each group and of the whole host ("host", "irq")."""
    sample = load.cpu_seconds(groups)
    sample.update(load.host_cpu_seconds())
    return sample


def other_share(cpu: dict) -> float:
    """Share of the host's process CPU during the load that none of the benchmark's used."""
    ours = sum(cpu.get(name, 0.0) for name in ("gunicorn", "postgres", "redis", "clients"))
    return max(0.0, cpu["host"] - ours) / cpu["host"] if cpu.get("host") else 0.0


def figures(measured: Round, *, cpu: dict, errors: int, consistent: bool, constant: bool):
    valid = errors == 0 and measured.completed > 0
    p95 = " / ".join(f"{percentile_ms(measured.latencies[s], 95):.0f}" for s in STEPS)
    per_flow = {
        name: cpu.get(name, 0.0) * 1000 / measured.completed if measured.completed else math.nan
        for name in ("gunicorn", "postgres", "redis")
    }
    return [
        {
            "figure": RATE_FIGURE,
            "value": f"{measured.rate:.1f}",
            "target": f">= {TARGET_FLOWS_PER_SECOND:.0f}",
            "verdict": harness.verdict(measured.rate >= TARGET_FLOWS_PER_SECOND, valid),
        },
        {
            "figure": "checkout flow p50 / p95 latency",
            "value": f"{percentile_ms(measured.flow_seconds, 50):.0f} / "
            f"{percentile_ms(measured.flow_seconds, 95):.0f} ms",
        },
        {"figure": "checkout steps p95 ms (cart/order/payment/sandbox/approve)", "value": p95},
        {
            "figure": "CPU per flow, gunicorn / postgres (every backend) / redis",
            "value": " / ".join(f"{ms:.1f}" for ms in per_flow.values()) + " ms",
        },
        {
            "figure": "host CPU taken by other processes during the checkout run",
            "value": f"{other_share(cpu):.0%}",
        },
        {
            "figure": "checkout unexpected statuses/failed requests, warm-up included",
            "value": f"{errors}",
            "target": "0",
            "verdict": "PASS" if errors == 0 else "FAIL",
        },
        {
            "figure": "checkout DB: paid = flows, ledger, enrollments, nothing half-written",
            "value": "yes" if consistent else "NO",
            "target": "yes",
            "verdict": "PASS" if consistent else "FAIL",
        },
        {
            "figure": "SQL queries per checkout step, 1 vs 3 courses, curriculum of 1 vs 3",
            "value": "equal" if constant else "grow",
            "target": "equal",
            "verdict": "PASS" if constant else "FAIL",
        },
    ]


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=300, help="measured flows, at most (300)")
    parser.add_argument(
        "--duration", type=float, default=60.0, help="bound on the measured seconds (60)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="client processes (4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up flows per client (3)")
    parser.add_argument("--sql", action="store_true", help="print each step's SQL (3 courses)")
    parser.add_argument("--database-url", default=harness.DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=harness.DEFAULT_REDIS_URL)
    parser.add_argument("--json-out", type=Path, help="also write the figures here (run_all.py)")
    return parser


def main() -> int:
    parser = argument_parser()
    args = parser.parse_args()
    for name in ("flows", "duration", "concurrency", "workers"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be positive")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    env = {
        **harness.bench_env(database_url=args.database_url, redis_url=args.redis_url),
        "BENCH_PAYMENT_SANDBOX": "1",
        # Behind nginx on the public site; the flow only ever uses these URLs' paths.
        "PAYMENT_SANDBOX_BASE_URL": "https://127.0.0.1",
    }
    os.environ.update(env)
    harness.database_ensure(args.database_url)
    harness.redis_clear(args.redis_url)
    warmup_flows = args.warmup * args.concurrency
    fixture = django_prepare(buyers=warmup_flows + args.flows)
    measured_sql = queries_per_step(fixture)
    constant = print_queries(measured_sql, args.sql)

    # The warm-up's bound too; a second per round covers START_SLACK and the pool's dispatch.
    planned = 2 * (args.duration + 1.0)
    if time.time() + planned + TOKEN_MARGIN > fixture.tokens_expire_at:
        raise RuntimeError(
            "the prepared access tokens expire before the planned load ends; shorten --duration "
            "or raise ACCESS_TOKEN_LIFETIME_SECONDS"
        )
    print(
        f"gunicorn {args.workers} sync workers, settings bench.settings (+ sandbox provider), "
        f"{urlsplit(args.database_url).path.lstrip('/')} on PostgreSQL, Redis {args.redis_url}"
    )
    print(
        f"load: {args.concurrency} client processes (http.client), {args.warmup} warm-up flows "
        f"each, then up to {args.flows} flows in at most {args.duration:g} s; load average "
        f"before {os.getloadavg()[0]:.2f}"
    )
    watched = harness.service_pids(database_url=args.database_url, redis_url=args.redis_url)
    warm_buyers, buyers = fixture.buyers[:warmup_flows], fixture.buyers[warmup_flows:]
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        harness.gunicorn_server(env, args.workers, Path(tmp) / "gunicorn.log", watched) as server,
    ):
        sanity_check(server.port, fixture)
        groups = {"gunicorn": {server.pid}, **{name: {pid} for name, pid in watched.items()}}
        with load.client_pool(args.concurrency) as pool:
            warm = Round()
            if warm_buyers:
                warm = Round.run(pool, server.port, warm_buyers, args.concurrency, args.duration)
            groups["clients"] = {process.pid for process in multiprocessing.active_children()}
            cpu_before = cpu_sample(groups)
            measured = Round.run(pool, server.port, buyers, args.concurrency, args.duration)
            cpu = cpu_sample(groups)
            cpu.subtract(cpu_before)

    print_steps(measured)
    errors = warm.errors + measured.errors
    for sample in warm.samples + measured.samples:
        print(f"    {sample}")
    if warm.errors:
        print(f"warm-up: {warm.errors} unexpected or failed responses")
    completed = 1 + warm.completed + measured.completed  # the probe's purchase counts too
    print(
        f"flows/s (complete flows only, {measured.completed} of {measured.started} started in "
        f"{measured.elapsed:.1f} s; {warm.completed} in warm-up, 1 probe): {measured.rate:.1f}"
    )
    print(f"buyers left unused: {len(buyers) - measured.started} of {len(buyers)}")
    if other_share(cpu) > OTHER_SHARE_WARNING:
        print(
            f"WARNING: other processes took {other_share(cpu):.0%} of the host's process CPU "
            "during the load; flows/s is lower than this code on a quiet host (CPU per flow is "
            "the steadier figure)"
        )
    consistency = consistency_check(completed)
    print("database check:")
    for line in consistency.lines:
        print(f"  {line}")
    rows = figures(
        measured, cpu=dict(cpu), errors=errors, consistent=consistency.ok, constant=constant
    )
    for row in rows:
        verdict = f" (target {row['target']}: {row['verdict']})" if "verdict" in row else ""
        print(f"{row['figure']}: {row['value']}{verdict}")
    harness.write_figures(args.json_out, rows)
    return 0 if errors == 0 and consistency.ok and constant else 1


if __name__ == "__main__":
    harness.script_main(main)

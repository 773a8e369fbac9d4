"""Scenario 2: PostgreSQL restarted (`pg_ctl restart -m fast`), later stopped for 10 s and started
again, while votes, checkouts and reads go on through nginx. Requests meanwhile fail fast with the
503 envelope, never hang and never 500; health names the database; once it is back, requests
succeed within seconds on the same gunicorn workers (CONN_HEALTH_CHECKS reconnects) and every
write answered before, during or after is in the database."""

import math
import time

from faults.context import Context, failure_checks, print_requests, print_timeline, settle, statuses
from tools.clients import start, starting_at, wait_for
from tools.fixtures import Check
from tools.flows import CheckoutJob, ProbeJob, VoteJob

RESTART_AT, STOP_AT, DOWN_FOR, AFTER = 2.0, 8.0, 10.0, 5.0
VOTE_CLIENTS, VOTE_INTERVAL = 2, 0.04
CHECKOUT_INTERVAL = 0.15
PROBE_INTERVAL = 0.2
# A failing request may take the connect timeout, plus this for the rest of its work.
SLACK = 1.0
# After the database accepts connections again, failures must stop within this many seconds.
RECOVERY_LIMIT = 5.0


def _recovery(results: list, began: float, ready: float, until: float) -> tuple[float, float]:
    """(seconds after `ready` until the last failure of that outage ended, until the first
    success started), among requests that started after `began` and ended before `until`."""
    window = [r for r in results if began <= r.started and r.ended < until]
    last_failure = max((r.ended for r in window if not r.ok), default=ready)
    first_success = min(
        (r.started for r in window if r.ok and r.started >= ready), default=math.inf
    )
    return max(0.0, last_failure - ready), first_success - ready


def _outage_line(name: str, results: list, began: float, ready: float) -> str:
    during = [r for r in results if began <= r.started < ready]
    latencies = [r.latency * 1000 for r in during] or [0.0]
    return (
        f"  {name}: {len(during)} requests while down ({statuses(during)}), "
        f"max {max(latencies):.0f} ms"
    )


def run(ctx: Context) -> list[Check]:
    connect_timeout = float(ctx.stack.env.get("DATABASE_CONNECT_TIMEOUT", 3))
    before = ctx.workers_by_master()
    start_at = starting_at()
    stop_at = start_at + STOP_AT + DOWN_FOR + AFTER + 1.0
    window = (start_at, stop_at)
    per_client = math.ceil((stop_at - start_at) / VOTE_INTERVAL)
    ballots = ctx.take("ballots", VOTE_CLIENTS * per_client + 1)
    reader = ballots.pop()  # a voter whose token only reads
    buyers = ctx.take("buyers", math.ceil((stop_at - start_at) / CHECKOUT_INTERVAL))
    server = ctx.server
    jobs = [
        *(
            VoteJob(server, ctx.poll_id, tuple(ballots[i::VOTE_CLIENTS]), *window, VOTE_INTERVAL)
            for i in range(VOTE_CLIENTS)
        ),
        CheckoutJob(server, tuple(buyers), *window, CHECKOUT_INTERVAL),
        ProbeJob(server, "GET health", "/api/health/", *window, PROBE_INTERVAL),
        ProbeJob(server, "GET poll", f"/api/polls/{ctx.poll_id}/", *window, PROBE_INTERVAL),
        ProbeJob(server, "GET users/me", "/api/users/me/", *window, PROBE_INTERVAL, reader.token),
    ]
    pending = start(ctx.pool, jobs)
    wait_for(start_at + RESTART_AT)
    restart_began = time.monotonic()
    ctx.stack.postgres.restart()
    restart_ready = time.monotonic()
    wait_for(start_at + STOP_AT)
    stop_began = time.monotonic()
    ctx.stack.postgres.stop("fast")
    stopped = time.monotonic()
    time.sleep(DOWN_FOR)
    start_began = time.monotonic()
    ctx.stack.postgres.start()
    stop_ready = time.monotonic()
    outputs = pending.get(timeout=stop_at - time.monotonic() + 120)
    after = ctx.workers_by_master()

    pairs = [pair for output in outputs[:VOTE_CLIENTS] for pair in output]
    flows = outputs[VOTE_CLIENTS]
    probes = [r for output in outputs[VOTE_CLIENTS + 1 :] for r in output]
    load, retried_results, settled_checks = settle(ctx, pairs, flows)
    results = load + probes

    print_requests(
        f"2. PostgreSQL restart -m fast, then stop, {DOWN_FOR:g} s down, start",
        results + retried_results,
    )
    print_timeline(
        [
            ("restart", restart_began), ("back", restart_ready), ("stop", stop_began),
            ("stopped", stopped), ("start", start_began), ("back", stop_ready),
        ],
        start_at,
    )  # fmt: skip
    print(_outage_line("restart", results, restart_began, restart_ready))
    print(_outage_line("stop/start", results, stop_began, stop_ready))
    lag1, first1 = _recovery(results, restart_began, restart_ready, stop_began)
    lag2, first2 = _recovery(results, stop_began, stop_ready, stop_at)
    failed = [r for r in results if not r.ok]
    outside = [
        r
        for r in failed
        if not (restart_began - SLACK <= r.started <= restart_ready + RECOVERY_LIMIT)
        and not (stop_began - SLACK <= r.started <= stop_ready + RECOVERY_LIMIT)
    ]
    health_down = [
        r for r in probes if r.label == "GET health" and stopped <= r.started < start_began
    ]
    health_says_db = [
        r
        for r in health_down
        if r.status == 503
        and isinstance(r.data, dict)
        and (r.data.get("database"), r.data.get("cache")) == ("unavailable", "ok")
    ]
    bound = connect_timeout + SLACK
    slowest_failure = max((r.latency for r in failed), default=0.0)
    print(f"  checkout flows: {len(flows)} started, {sum(f.paid for f in flows)} paid")
    return [
        Check(f"failures fail fast: max latency < DATABASE_CONNECT_TIMEOUT {connect_timeout:g} s "
              f"+ {SLACK:g} s", slowest_failure < bound,
              f"max {slowest_failure * 1000:.0f} ms of {len(failed)} failed; max of all "
              f"{max(r.latency for r in results) * 1000:.0f} ms"),
        # Health answers in its own shape (checked below), not in the error envelope.
        *failure_checks([r for r in results if r.label != "GET health"]),
        Check("failures only while the database was away (or just after)", not outside,
              f"{len(outside)} outside"),
        Check("health while down: 503, database unavailable, cache ok",
              bool(health_down) and len(health_says_db) == len(health_down),
              f"{len(health_says_db)}/{len(health_down)}"),
        Check(f"recovered within {RECOVERY_LIMIT:g} s of the database accepting again",
              lag1 < RECOVERY_LIMIT and lag2 < RECOVERY_LIMIT,
              f"last failure {lag1:.2f} s / {lag2:.2f} s after; first 2xx {first1:.2f} s / "
              f"{first2:.2f} s after (restart / stop-start)"),
        Check("same gunicorn masters and workers (reconnected, not restarted)", after == before,
              f"{sum(map(len, before.values()))} workers before, "
              f"{'the same' if after == before else 'OTHERS'} after"),
        *settled_checks,
        *ctx.database_checks(),
    ]  # fmt: skip

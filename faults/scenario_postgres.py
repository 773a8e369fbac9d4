"""Scenario 2: PostgreSQL restarted (`pg_ctl restart -m fast`), later stopped for 10 s and started
again, while votes, checkouts and reads go on through nginx. Requests meanwhile fail fast with the
503 envelope, never hang and never 500; health names the database; once it is back, requests
succeed within seconds on the same gunicorn workers (CONN_HEALTH_CHECKS reconnects) and every
write answered before, during or after is in the database."""

import math
import time

from faults import load, report, workers
from faults.checks import Check
from faults.context import Context, failure_checks
from faults.load import CheckoutJob, ProbeJob, VoteJob
from faults.retries import retry_approvals, retry_votes, vote_outcomes

RESTART_AT, STOP_AT, DOWN_FOR, AFTER = 2.0, 8.0, 10.0, 5.0
VOTE_CLIENTS, VOTE_INTERVAL = 2, 0.04
CHECKOUT_INTERVAL = 0.15
PROBE_INTERVAL = 0.2
# A failing request may take the connect timeout, plus this for the rest of its work.
SLACK = 1.0
# After the database accepts connections again, failures must stop within this many seconds.
RECOVERY_LIMIT = 5.0


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


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
        f"  {name}: {len(during)} requests while down ({report.statuses(during)}), "
        f"max {max(latencies):.0f} ms"
    )


def run(ctx: Context) -> list[Check]:
    connect_timeout = float(ctx.stack.env.get("DATABASE_CONNECT_TIMEOUT", 3))
    before = workers.workers_by_master(ctx.stack)
    start_at = load.starting_at()
    stop_at = start_at + STOP_AT + DOWN_FOR + AFTER + 1.0
    per_client = math.ceil((stop_at - start_at) / VOTE_INTERVAL)
    ballots = ctx.fixture.take_ballots(VOTE_CLIENTS * per_client + 1)
    reader = ballots.pop()  # a voter whose token only reads
    buyers = ctx.fixture.take_buyers(math.ceil((stop_at - start_at) / CHECKOUT_INTERVAL))
    poll = f"/api/polls/{ctx.fixture.poll_id}/"
    jobs = [
        *(
            VoteJob(ctx.endpoint, ctx.fixture.poll_id, tuple(ballots[i::VOTE_CLIENTS]), start_at,
                    stop_at, VOTE_INTERVAL)
            for i in range(VOTE_CLIENTS)
        ),
        CheckoutJob(ctx.endpoint, tuple(buyers), start_at, stop_at, CHECKOUT_INTERVAL),
        ProbeJob(ctx.endpoint, "GET health", "/api/health/", start_at, stop_at, PROBE_INTERVAL),
        ProbeJob(ctx.endpoint, "GET poll", poll, start_at, stop_at, PROBE_INTERVAL),
        ProbeJob(ctx.endpoint, "GET users/me", "/api/users/me/", start_at, stop_at,
                 PROBE_INTERVAL, token=reader.token),
    ]  # fmt: skip
    pending = load.start(ctx.pool, jobs)
    _sleep_until(start_at + RESTART_AT)
    restart_began = time.monotonic()
    ctx.postgres.restart()
    restart_ready = time.monotonic()
    _sleep_until(start_at + STOP_AT)
    stop_began = time.monotonic()
    ctx.postgres.stop("fast")
    stopped = time.monotonic()
    time.sleep(DOWN_FOR)
    start_began = time.monotonic()
    ctx.postgres.start()
    stop_ready = time.monotonic()
    outputs = pending.get(timeout=stop_at - time.monotonic() + 120)
    after = workers.workers_by_master(ctx.stack)

    pairs = [pair for output in outputs[:VOTE_CLIENTS] for pair in output]
    flows = outputs[VOTE_CLIENTS]
    probes = [r for output in outputs[VOTE_CLIENTS + 1 :] for r in output]
    vote_retries, retried = retry_votes(ctx, [b for b, r in pairs if not r.ok])
    approve_failed = [f for f in flows if f.last.label == "GET approve" and not f.last.ok]
    approve_retries = retry_approvals(ctx, approve_failed)
    results = [r for _b, r in pairs] + [r for f in flows for r in f.steps] + probes
    results = [r for r in results if "retry" not in r.label]

    report.print_requests(
        f"2. PostgreSQL restart -m fast, then stop, {DOWN_FOR:g} s down, start",
        results + vote_retries + approve_retries,
    )
    report.print_timeline(
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
        and r.data.get("database") == "unavailable"
        and r.data.get("cache") == "ok"
    ]
    vote_verdicts = vote_outcomes(ctx, pairs, retried)
    ctx.paid_payments |= {f.payment_id for f in flows if f.paid}
    bound = connect_timeout + SLACK
    checks = [
        Check(
            f"failures fail fast: max latency < DATABASE_CONNECT_TIMEOUT {connect_timeout:g} s "
            f"+ {SLACK:g} s",
            max((r.latency for r in failed), default=0.0) < bound,
            f"max {max((r.latency for r in failed), default=0.0) * 1000:.0f} ms of "
            f"{len(failed)} failed; max of all {max(r.latency for r in results) * 1000:.0f} ms",
        ),
        # Health answers in its own shape (checked below), not in the error envelope.
        *failure_checks([r for r in results if r.label != "GET health"]),
        Check(
            "failures only while the database was away (or just after)",
            not outside,
            f"{len(outside)} outside",
        ),
        Check(
            "health while down: 503, database unavailable, cache ok",
            bool(health_down) and len(health_says_db) == len(health_down),
            f"{len(health_says_db)}/{len(health_down)}",
        ),
        Check(
            f"recovered within {RECOVERY_LIMIT:g} s of the database accepting again",
            lag1 < RECOVERY_LIMIT and lag2 < RECOVERY_LIMIT,
            f"last failure {lag1:.2f} s / {lag2:.2f} s after; first 2xx {first1:.2f} s / "
            f"{first2:.2f} s after (restart / stop-start)",
        ),
        Check(
            "same gunicorn masters and workers (reconnected, not restarted)",
            after == before,
            f"{sum(map(len, before.values()))} workers before, "
            f"{'the same' if after == before else 'OTHERS'} after",
        ),
        *vote_verdicts,
        Check(
            "failed approvals retried end paid",
            all(f.paid for f in approve_failed),
            f"{sum(f.paid for f in approve_failed)}/{len(approve_failed)}",
        ),
        *ctx.database_checks(),
    ]
    print(f"  checkout flows: {len(flows)} started, {sum(f.paid for f in flows)} paid")
    return checks

"""Scenario 1: SIGKILL a random gunicorn worker (never a master) about every second while voters
vote and buyers check out through nginx, then two kills pinned mid-write (pinned.py). Afterwards
every answered write is in the database and whole, requests failed only as "retry later", the
masters respawned their workers and the load after the kills succeeded; votes and approvals that
failed are retried as a client would."""

import os
import random
import signal
import time

from faults import load, report, workers
from faults.checks import Check
from faults.context import Context, failure_checks
from faults.load import CheckoutJob, VoteJob
from faults.pinned import pinned_kills
from faults.retries import retry_approvals, retry_votes, vote_outcomes

KILLS = 5
KILL_EVERY = 1.0
FIRST_KILL_AFTER = 1.5
# Load after the last kill: a respawned worker boots in about a second on a busy 2-core host.
TAIL = 3.0
# Requests started this long after the last kill must all succeed.
SETTLED_AFTER = 1.0
VOTE_CLIENTS, VOTE_INTERVAL = 3, 0.02
CHECKOUT_CLIENTS, CHECKOUT_INTERVAL = 2, 0.05


def _kill_workers(ctx: Context, start_at: float) -> list[tuple[float, int]]:
    rng = random.Random()
    time.sleep(max(0.0, start_at + FIRST_KILL_AFTER - time.monotonic()))
    kills = []
    for _ in range(KILLS):
        pids = [pid for group in workers.workers_by_master(ctx.stack).values() for pid in group]
        victim = rng.choice(pids)
        os.kill(victim, signal.SIGKILL)
        kills.append((time.monotonic(), victim))
        time.sleep(KILL_EVERY * rng.uniform(0.8, 1.2))
    return kills


def run(ctx: Context) -> list[Check]:
    before = workers.workers_by_master(ctx.stack)
    ballots = ctx.fixture.take_ballots(1500)
    buyers = ctx.fixture.take_buyers(150)
    start_at = load.starting_at()
    stop_at = start_at + FIRST_KILL_AFTER + KILLS * KILL_EVERY * 1.2 + TAIL
    jobs = [
        VoteJob(ctx.endpoint, ctx.fixture.poll_id, tuple(ballots[i::VOTE_CLIENTS]), start_at,
                stop_at, VOTE_INTERVAL)
        for i in range(VOTE_CLIENTS)
    ] + [
        CheckoutJob(ctx.endpoint, tuple(buyers[i::CHECKOUT_CLIENTS]), start_at, stop_at,
                    CHECKOUT_INTERVAL)
        for i in range(CHECKOUT_CLIENTS)
    ]  # fmt: skip
    pending = load.start(ctx.pool, jobs)
    kills = _kill_workers(ctx, start_at)
    outputs = pending.get(timeout=stop_at - time.monotonic() + 120)
    pairs = [pair for output in outputs[:VOTE_CLIENTS] for pair in output]
    flows = [flow for output in outputs[VOTE_CLIENTS:] for flow in output]
    killed = {pid for _at, pid in kills}
    respawned_in = workers.wait_for_workers(ctx.stack, ctx.workers, killed)
    after = workers.workers_by_master(ctx.stack)

    vote_retries, retried = retry_votes(ctx, [b for b, r in pairs if not r.ok])
    approve_failed = [f for f in flows if f.last.label == "GET approve" and not f.last.ok]
    approve_retries = retry_approvals(ctx, approve_failed)
    load_results = [r for _b, r in pairs] + [r for f in flows for r in f.steps]
    load_results = [r for r in load_results if "retry" not in r.label]
    pinned_results, pinned_checks = pinned_kills(ctx)

    report.print_requests(
        f"1. worker SIGKILL under load: {KILLS} random kills of {len(before)}x{ctx.workers} "
        "workers, then 2 pinned mid-write",
        load_results + vote_retries + approve_retries + pinned_results,
    )
    report.print_timeline([(f"kill {pid}", at) for at, pid in kills], start_at)
    last_kill = kills[-1][0]
    settled = [r for r in load_results if r.started >= last_kill + SETTLED_AFTER]
    vote_verdicts = vote_outcomes(ctx, pairs, retried)
    paid = {f.payment_id for f in flows if f.paid}
    ctx.paid_payments |= paid
    checks = [
        Check(
            "masters kept, every killed worker replaced",
            respawned_in is not None and set(after) == set(before),
            f"masters {sorted(before)}; {sum(map(len, after.values()))} workers after, "
            + ("the killed ones replaced" if respawned_in is not None else "NOT replaced"),
        ),
        Check(
            f"requests started ≥{SETTLED_AFTER:g} s after the last kill all succeeded",
            bool(settled) and all(r.ok for r in settled),
            f"{sum(r.ok for r in settled)}/{len(settled)}",
        ),
        Check(
            "failed requests during the kills",
            None,
            f"{sum(not r.ok for r in load_results)} of {len(load_results)} for {KILLS} kills",
        ),
        *failure_checks(load_results),
        *vote_verdicts,
        *pinned_checks,
        Check(
            "failed approvals retried end paid",
            all(f.paid for f in approve_failed),
            f"{sum(f.paid for f in approve_failed)}/{len(approve_failed)}",
        ),
        *ctx.database_checks(),
    ]
    print(f"  checkout flows: {len(flows)} started, {len(paid)} paid")
    return checks

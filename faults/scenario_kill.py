"""Scenario 1: SIGKILL a random gunicorn worker (never a master) about every second while voters
vote and buyers check out through nginx, then two kills pinned mid-write (pinned.py). Afterwards
every answered write is in the database and whole, requests failed only as "retry later", the
masters respawned their workers and the load after the kills succeeded; votes and approvals that
failed are retried as a client would."""

import os
import random
import signal
import time

from faults.context import (
    Context,
    approval_checks,
    failure_checks,
    print_requests,
    print_timeline,
    retry_approvals,
    retry_votes,
    vote_outcomes,
)
from faults.pinned import pinned_kills
from tools.clients import start, starting_at, wait_for
from tools.fixtures import Check
from tools.flows import CheckoutJob, VoteJob

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
    wait_for(start_at + FIRST_KILL_AFTER)
    kills = []
    for _ in range(KILLS):
        victim = rng.choice(ctx.worker_pids())
        os.kill(victim, signal.SIGKILL)
        kills.append((time.monotonic(), victim))
        time.sleep(KILL_EVERY * rng.uniform(0.8, 1.2))
    return kills


def run(ctx: Context) -> list[Check]:
    before = ctx.workers_by_master()
    ballots, buyers = ctx.take_ballots(1500), ctx.take_buyers(150)
    start_at = starting_at()
    stop_at = start_at + FIRST_KILL_AFTER + KILLS * KILL_EVERY * 1.2 + TAIL
    window = (start_at, stop_at)
    jobs = [
        VoteJob(ctx.server, ctx.poll_id, tuple(ballots[i::VOTE_CLIENTS]), *window, VOTE_INTERVAL)
        for i in range(VOTE_CLIENTS)
    ] + [
        CheckoutJob(ctx.server, tuple(buyers[i::CHECKOUT_CLIENTS]), *window, CHECKOUT_INTERVAL)
        for i in range(CHECKOUT_CLIENTS)
    ]
    pending = start(ctx.pool, jobs)
    kills = _kill_workers(ctx, start_at)
    outputs = pending.get(timeout=stop_at - time.monotonic() + 120)
    pairs = [pair for output in outputs[:VOTE_CLIENTS] for pair in output]
    flows = [flow for output in outputs[VOTE_CLIENTS:] for flow in output]
    respawned_in = ctx.wait_for_workers({pid for _at, pid in kills})
    after = ctx.workers_by_master()

    vote_retries, retries = retry_votes(ctx, [b for b, r in pairs if not r.ok])
    approve_failed = [f for f in flows if f.last.label == "GET approve" and not f.last.ok]
    approve_retries = retry_approvals(ctx, approve_failed)
    load_results = [r for _b, r in pairs] + [r for f in flows for r in f.steps]
    load_results = [r for r in load_results if "retry" not in r.label]
    pinned_results, pinned_checks = pinned_kills(ctx)

    print_requests(
        f"1. worker SIGKILL under load: {KILLS} random kills of {len(before)}x{ctx.workers} "
        "workers, then 2 pinned mid-write",
        load_results + vote_retries + approve_retries + pinned_results,
    )
    print_timeline([(f"kill {pid}", at) for at, pid in kills], start_at)
    settled = [r for r in load_results if r.started >= kills[-1][0] + SETTLED_AFTER]
    vote_verdicts = vote_outcomes(ctx, pairs, retries)
    print(f"  checkout flows: {len(flows)} started, {sum(f.paid for f in flows)} paid")
    return [
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
        *approval_checks(ctx, flows, approve_failed),
        *ctx.database_checks(),
    ]

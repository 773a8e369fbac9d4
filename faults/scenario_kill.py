"""Scenario 1: SIGKILL a random gunicorn worker (never a master) about every second while voters
vote and buyers check out through nginx, then two kills pinned mid-write. Afterwards
every answered write is in the database and whole, requests failed only as "retry later", the
masters respawned their workers and the load after the kills succeeded; votes and approvals that
failed are retried as a client would."""

import os
import random
import signal
import threading
import time
from functools import partial

from faults.context import (
    Context,
    failure_checks,
    holding_local_port,
    print_requests,
    print_timeline,
    retried,
    settle,
    vote_outcomes,
)
from tools.clients import Reply, start, starting_at, wait_for
from tools.fixtures import Check
from tools.flows import CheckoutJob, VoteJob, checkout_flow, vote_send

KILLS = 5
KILL_EVERY = 1.0
FIRST_KILL_AFTER = 1.5
# Load after the last kill: a respawned worker boots in about a second on a busy 2-core host.
TAIL = 3.0
# Requests started this long after the last kill must all succeed.
SETTLED_AFTER = 1.0
VOTE_CLIENTS, VOTE_INTERVAL = 3, 0.02
CHECKOUT_CLIENTS, CHECKOUT_INTERVAL = 2, 0.05
LOCK_WAIT_TIMEOUT, PINNED_RETRY_PAUSE = 10.0, 1.0


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


# --- Pinned kills: the runner holds a row lock, a request blocks on it inside its transaction, and
# exactly the worker serving it is SIGKILLed, so what a retry meets is the same every run.


def _waiting_client_port(connection) -> int | None:
    """The client port of the database session that waits for a lock, once one does."""
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT client_port FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if row := cursor.fetchone():
                return row[0]
            time.sleep(0.05)
    return None


def kill_while_blocked(ctx: Context, locked, send) -> tuple[Reply, int | None]:
    """Lock the rows of the queryset `locked`, run `send()` in a thread, SIGKILL the worker
    whose session waits for the lock, release it; the request's result and the killed pid."""
    from django.db import connection, connections, transaction

    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("result", send()))
    victim = None
    try:
        with transaction.atomic():
            list(locked.select_for_update())
            thread.start()
            port = _waiting_client_port(connection)
            victim = holding_local_port(ctx.worker_pids(), port) if port else None
            if victim is not None:
                os.kill(victim, signal.SIGKILL)
    finally:
        connections.close_all()
        thread.join(timeout=60)
    ctx.wait_for_workers({victim})
    return answer["result"], victim


def pinned_kills(ctx: Context) -> tuple[list[Reply], list[Check]]:
    from payments.models import Order, Payment
    from votes.models import Candidate

    client, poll_id, ballot = ctx.client(), ctx.poll_id, ctx.take("ballots", 1)[0]
    vote, vote_victim = kill_while_blocked(
        ctx,
        Candidate.objects.filter(pk=ballot.candidate),
        lambda: vote_send(ctx.client(), poll_id, ballot, label="POST vote pinned"),
    )
    send_vote = partial(vote_send, client, poll_id, ballot, label="POST vote retry")
    vote_retry = retried(send_vote, PINNED_RETRY_PAUSE)[-1]
    vote_outcomes(ctx, [(ballot, vote)], {ballot: vote_retry})  # notes who was told what

    flow = checkout_flow(client, ctx.take("buyers", 1)[0], approve=False)
    if flow.approve_path is None:
        raise RuntimeError(f"checkout before the pinned approval failed: {flow.last}")
    path, token = flow.approve_path, flow.buyer.token
    approve, approve_victim = kill_while_blocked(
        ctx,
        Order.objects.filter(pk=Payment.objects.get(pk=flow.payment_id).order_id),
        lambda: ctx.client().send("GET approve pinned", "GET", path, token=token),
    )
    send_approve = partial(client.send, "GET approve retry", "GET", path, token=token)
    flow.steps.append(approve_retry := retried(send_approve, PINNED_RETRY_PAUSE)[-1])
    if flow.paid:
        ctx.paid_payments.add(flow.payment_id)
    client.close()
    checks = [
        Check("pinned: worker killed while its vote waited on a row lock; the same key's retry "
              "settles (201)", vote_victim is not None and vote_retry.status == 201,
              f"killed pid {vote_victim}; the vote got {vote.summary}, its retry "
              f"{vote_retry.summary}"),
        Check("pinned: worker killed while its approve waited on the order; the retry ends paid",
              approve_victim is not None and flow.paid,
              f"killed pid {approve_victim}; approve got {approve.summary}, its retry "
              f"{approve_retry.summary}"),
    ]  # fmt: skip
    return [*flow.steps, vote, vote_retry, approve], checks


def run(ctx: Context) -> list[Check]:
    before = ctx.workers_by_master()
    ballots, buyers = ctx.take("ballots", 1500), ctx.take("buyers", 150)
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

    load_results, retry_results, settled_checks = settle(ctx, pairs, flows)
    pinned_results, pinned_checks = pinned_kills(ctx)

    print_requests(
        f"1. worker SIGKILL under load: {KILLS} random kills of {len(before)}x{ctx.workers} "
        "workers, then 2 pinned mid-write",
        load_results + retry_results + pinned_results,
    )
    print_timeline([(f"kill {pid}", at) for at, pid in kills], start_at)
    settled = [r for r in load_results if r.started >= kills[-1][0] + SETTLED_AFTER]
    print(f"  checkout flows: {len(flows)} started, {sum(f.paid for f in flows)} paid")
    return [
        Check("masters kept, every killed worker replaced",
              respawned_in is not None and set(after) == set(before),
              f"masters {sorted(before)}; {sum(map(len, after.values()))} workers after, "
              + ("the killed ones replaced" if respawned_in is not None else "NOT replaced")),
        Check(f"requests started ≥{SETTLED_AFTER:g} s after the last kill all succeeded",
              bool(settled) and all(r.ok for r in settled),
              f"{sum(r.ok for r in settled)}/{len(settled)}"),
        Check("failed requests during the kills", None,
              f"{sum(not r.ok for r in load_results)} of {len(load_results)} for {KILLS} kills"),
        *failure_checks(load_results),
        *settled_checks,
        *pinned_checks,
        *ctx.database_checks(),
    ]  # fmt: skip

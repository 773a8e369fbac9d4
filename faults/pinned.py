"""Worker kills at a known point: the runner holds a row lock, a request blocks on it inside its
transaction, and exactly the worker serving it is SIGKILLed. The random kills land wherever they
land; these two always land mid-write, so what a retry meets afterwards is the same every run."""

import os
import signal
import threading
import time
from functools import partial

from faults.context import Context, holding_local_port, retried
from tools.clients import Reply
from tools.fixtures import Check
from tools.flows import checkout_flow, vote_answer_right, vote_send

LOCK_WAIT_TIMEOUT = 10.0
RETRY_PAUSE = 1.0


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

    client, poll_id, ballot = ctx.client(), ctx.poll_id, ctx.take_ballots(1)[0]
    vote, vote_victim = kill_while_blocked(
        ctx,
        Candidate.objects.filter(pk=ballot.candidate),
        lambda: vote_send(ctx.client(), poll_id, ballot, label="POST vote pinned"),
    )
    send_vote = partial(vote_send, client, poll_id, ballot, label="POST vote retry")
    vote_retry = retried(send_vote, RETRY_PAUSE)[-1]
    ctx.attempted_voters.add(ballot.voter)
    ctx.failed_voters.add(ballot.voter)
    if vote_retry.status == 201 and vote_answer_right(vote_retry, poll_id, ballot):
        ctx.answered_voters.add(ballot.voter)
        if not vote_retry.replayed:
            ctx.recast_voters.add(ballot.voter)

    flow = checkout_flow(client, ctx.take_buyers(1)[0], approve=False)
    if flow.approve_path is None:
        raise RuntimeError(f"checkout before the pinned approval failed: {flow.last}")
    path, token = flow.approve_path, flow.buyer.token
    approve, approve_victim = kill_while_blocked(
        ctx,
        Order.objects.filter(pk=Payment.objects.get(pk=flow.payment_id).order_id),
        lambda: ctx.client().send("GET approve pinned", "GET", path, token=token),
    )
    send_approve = partial(client.send, "GET approve retry", "GET", path, token=token)
    approve_retry = retried(send_approve, RETRY_PAUSE)[-1]
    flow.steps.append(approve_retry)
    if flow.paid:
        ctx.paid_payments.add(flow.payment_id)
    client.close()
    checks = [
        Check(
            "pinned: worker killed while its vote waited on a row lock; the same key's retry "
            "settles (201)",
            vote_victim is not None and vote_retry.status == 201,
            f"killed pid {vote_victim}; the vote got {vote.summary}, its retry "
            f"{vote_retry.summary}",
        ),
        Check(
            "pinned: worker killed while its approve waited on the order; the retry ends paid",
            approve_victim is not None and flow.paid,
            f"killed pid {approve_victim}; approve got {approve.summary}, its retry "
            f"{approve_retry.summary}",
        ),
    ]
    return [*flow.steps, vote, vote_retry, approve], checks

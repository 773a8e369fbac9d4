"""What a client does after a failure it was told to retry: send the vote again with the same
Idempotency-Key, call the approval again; and what the answers to all that mean."""

import time

from faults import load
from faults.checks import Check
from faults.context import Context

RETRIES, RETRY_PAUSE = 3, 0.5


def retry_votes(ctx: Context, failed: list) -> tuple[list, dict]:
    """Send each failed vote again with its Idempotency-Key until answered (or RETRIES)."""
    client, results, outcome = ctx.client(), [], {}
    for ballot in failed:
        for attempt in range(RETRIES):
            result = load.vote_send(client, ctx.fixture.poll_id, ballot, label="POST vote retry")
            results.append(result)
            outcome[ballot] = result
            if result.status is not None and result.status < 500:
                break
            time.sleep(RETRY_PAUSE * (attempt + 1))
    client.close()
    return results, outcome


def retry_approvals(ctx: Context, flows: list) -> list:
    client, results = ctx.client(), []
    for flow in flows:
        for attempt in range(RETRIES):
            result = client.send(
                "GET approve retry", "GET", flow.approve_path, token=flow.buyer.token
            )
            results.append(result)
            flow.steps.append(result)
            if result.status is not None and result.status < 500:
                break
            time.sleep(RETRY_PAUSE * (attempt + 1))
    client.close()
    return results


def vote_outcomes(ctx: Context, pairs: list, retried: dict) -> list[Check]:
    """Note in `ctx` who was answered 201 (first try or retry), who sent, whose first try
    failed; the verdicts on the answers and on the retries."""
    poll_id = ctx.fixture.poll_id
    answered, wrong = set(), 0
    for ballot, result in [*pairs, *retried.items()]:
        if result.status == 201:
            if load.vote_answer_right(result, poll_id, ballot):
                answered.add(ballot.voter)
            else:
                wrong += 1
    stuck = [b for b, r in retried.items() if r.code == "idempotency_request_in_progress"]
    replayed = sum(1 for r in retried.values() if r.status == 201 and r.replayed)
    unsettled = [b for b, r in retried.items() if r.status != 201]
    checks = [
        Check("2xx votes carry the right poll and candidate", wrong == 0, f"{wrong} wrong"),
        Check(
            "failed votes retried with the same key settle (201, fresh or replayed)",
            not unsettled,
            f"{len(retried)} retried: {len(retried) - len(unsettled) - replayed} fresh 201, "
            f"{replayed} replayed 201, {len(stuck)} stuck at 409 idempotency_request_in_progress"
            f", {len(unsettled) - len(stuck)} other",
        ),
    ]
    ctx.answered_voters |= answered
    ctx.attempted_voters |= {ballot.voter for ballot, _ in pairs}
    ctx.failed_voters |= {ballot.voter for ballot in retried}
    ctx.recast_voters |= {b.voter for b, r in retried.items() if r.status == 201 and not r.replayed}
    return checks

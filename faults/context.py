"""What every scenario gets (the running stack, the private servers, the prepared data, the client
pool), and how a failed request is judged."""

from dataclasses import dataclass, field

from faults.checks import Check, checkout_checks, stuck_idempotency_keys, votes_checks
from faults.client import CUT_SHORT, Client, Endpoint, Result
from faults.fixture import Fixture
from faults.servers import Postgres, Redis

# Codes of answers that say "retry later" and are what a fault may cause, from Django (503) or
# from nginx in front of a dead worker (its 502/504 become the same 503 envelope).
FAULT_STATUSES = (502, 503, 504)


@dataclass
class Context:
    stack: object  # e2e.stack.Stack
    postgres: Postgres
    redis: Redis
    fixture: Fixture
    endpoint: Endpoint
    pool: object  # multiprocessing pool of load clients
    workers: int  # per gunicorn instance
    # What the clients were told, over every scenario (they share one poll and one catalogue).
    answered_voters: set = field(default_factory=set)  # answered 201 with the right data
    attempted_voters: set = field(default_factory=set)  # sent at least one vote
    failed_voters: set = field(default_factory=set)  # whose first vote failed
    recast_voters: set = field(default_factory=set)  # whose retry cast it anew (201, no replay)
    paid_payments: set = field(default_factory=set)  # approve answered 200 paid

    def client(self) -> Client:
        return Client(self.endpoint)

    def database_checks(self) -> list[Check]:
        """The whole database against everything the clients were told so far."""
        return [
            *votes_checks(
                poll_id=self.fixture.poll_id,
                answered=self.answered_voters,
                attempted=self.attempted_voters,
                # A failed first vote that is stored but was not cast anew by its retry was
                # committed by that first try: its answer was lost.
                lost=self.failed_voters - self.recast_voters,
            ),
            *checkout_checks(paid_payment_ids=self.paid_payments),
            Check(
                "idempotency keys left claimed (all scenarios so far)",
                None,
                str(stuck_idempotency_keys()),
            ),
        ]


def is_unavailable_envelope(result: Result) -> bool:
    """A 5xx with a Retry-After, in the error envelope with code service_unavailable under
    /api/ (pages outside it, like the sandbox's checkout page, answer plain text)."""
    if result.status not in FAULT_STATUSES or not result.retry_after:
        return False
    return result.code == "service_unavailable" or not result.path.startswith("/api/")


def failure_checks(results: list[Result]) -> list[Check]:
    """Requests that failed did so as a fault should: a 5xx saying "retry later", from Django or
    from nginx in front of it; never a 500, another status, a bare error page or no answer."""
    failed = [r for r in results if not r.ok]
    cut_short = [r for r in failed if r.error == CUT_SHORT]
    failed = [r for r in failed if r.error != CUT_SHORT]
    server_errors = [r for r in failed if r.status == 500]
    unexpected = [r for r in failed if r.status is not None and r.status not in FAULT_STATUSES]
    bare = [r for r in failed if r.status in FAULT_STATUSES and not is_unavailable_envelope(r)]
    no_answer = [r for r in failed if r.status is None]
    checks = [
        Check("no 500", not server_errors, f"{len(server_errors)} answered 500"),
        Check(
            "failures are 5xx 'retry later', nothing else",
            not unexpected,
            f"{len(failed)} failed; other statuses: "
            + (" ".join(sorted({f"{r.label} {r.status} {r.code}" for r in unexpected})) or "none"),
        ),
        Check(
            "5xx say service_unavailable (JSON envelope under /api/) + Retry-After",
            not bare,
            f"{len(failed) - len(no_answer) - len(bare)} with it, {len(bare)} without",
        ),
        Check("no connection errors: nginx always answered", not no_answer, str(len(no_answer))),
        Check(
            "answers cut short by a worker killed while writing them (retried like failures)",
            None,
            str(len(cut_short)),
        ),
    ]
    return checks

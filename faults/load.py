"""The load faults are injected under: voters casting one vote each, buyers going through checkout
(cart, order, sandbox payment, approve) and plain probes, each job in a spawned process until its
deadline. Every request is recorded, so the database can be checked against the answers.

No Django here: spawned processes import this module.
"""

import contextlib
import multiprocessing
import signal
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from faults.client import Client, Endpoint, Result
from faults.servers import die_with_parent

START_SLACK = 0.5


def _client_init() -> None:
    # Ctrl-C is handled once, by the parent; a killed parent takes the clients with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)


def _paced(start_at: float, stop_at: float, interval: float):
    """Yield the turn of each request until the deadline, at most one per `interval`."""
    while (pause := start_at - time.monotonic()) > 0:
        time.sleep(pause)
    turn = time.monotonic()
    while turn < stop_at:
        yield
        turn += interval
        pause = turn - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            turn = time.monotonic()


# --- Votes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ballot:
    voter: int  # user id
    token: str
    candidate: int
    key: str  # Idempotency-Key: a vote whose answer was lost is retried with the same one


def votes_path(poll_id: int) -> str:
    return f"/api/polls/{poll_id}/votes/"


def vote_send(client: Client, poll_id: int, ballot: Ballot, label: str = "POST vote") -> Result:
    return client.send(
        label,
        "POST",
        votes_path(poll_id),
        token=ballot.token,
        body={"candidate": ballot.candidate},
        headers={"Idempotency-Key": ballot.key},
    )


def vote_answer_right(result: Result, poll_id: int, ballot: Ballot) -> bool:
    """A 201 that names this poll and this candidate (a 2xx with other data is wrong data)."""
    data = result.data if isinstance(result.data, dict) else {}
    return data.get("poll") == poll_id and data.get("candidate") == ballot.candidate


@dataclass(frozen=True)
class VoteJob:
    endpoint: Endpoint
    poll_id: int
    ballots: tuple
    start_at: float
    stop_at: float
    interval: float = 0.0

    def run(self) -> list[tuple[Ballot, Result]]:
        client, sent = Client(self.endpoint), []
        supply = iter(self.ballots)
        for _turn in _paced(self.start_at, self.stop_at, self.interval):
            ballot = next(supply, None)
            if ballot is None:
                break
            sent.append((ballot, vote_send(client, self.poll_id, ballot)))
        client.close()
        return sent


# --- Checkout -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    user: int
    token: str
    course: int
    key: str  # Idempotency-Key of the payment


@dataclass
class Flow:
    """One buyer's purchase: each step's result, and what a retry of the approval needs."""

    buyer: Buyer
    steps: list = field(default_factory=list)
    payment_id: int | None = None
    approve_path: str | None = None

    @property
    def last(self) -> Result:
        return self.steps[-1]

    @property
    def paid(self) -> bool:
        last = self.last
        return (
            last.label.startswith("GET approve")
            and last.status == 200
            and isinstance(last.data, dict)
            and last.data.get("status") == "paid"
        )


EXPECTED_STATUS = {
    "POST cart item": 201,
    "POST order": 201,
    "POST payment": 201,
    "GET sandbox page": 302,
    "GET approve": 200,
}


def checkout_flow(client: Client, buyer: Buyer, *, approve: bool = True) -> Flow:
    """The buyer's purchase up to the approval (sent too unless `approve` is False)."""
    flow = Flow(buyer)

    def step(label, method, path, **kwargs) -> Result | None:
        result = client.send(label, method, path, **kwargs)
        flow.steps.append(result)
        return result if result.status == EXPECTED_STATUS[label] else None

    token = buyer.token
    if not step(
        "POST cart item", "POST", "/api/cart/items/", token=token, body={"course": buyer.course}
    ):
        return flow
    order = step("POST order", "POST", "/api/orders/", token=token, body={"from_cart": True})
    if not order or not isinstance(order.data, dict):
        return flow
    payment = step(
        "POST payment",
        "POST",
        "/api/payments/",
        token=token,
        body={"order": order.data["id"], "provider": "sandbox"},
        headers={"Idempotency-Key": buyer.key},
    )
    if not payment or not isinstance(payment.data, dict):
        return flow
    flow.payment_id = payment.data["payment"]["id"]
    # The buyer's browser on the provider's page: no token of ours.
    page = urlsplit(payment.data["redirect_url"]).path + "?action=approve"
    redirect = step("GET sandbox page", "GET", page)
    if not redirect or not redirect.location:
        return flow
    # The provider sends the browser to the frontend's route; the frontend then calls the API.
    pg_token = parse_qs(urlsplit(redirect.location).query)["pg_token"][0]
    flow.approve_path = f"/api/payments/{flow.payment_id}/approve/?pg_token={pg_token}"
    if approve:
        step("GET approve", "GET", flow.approve_path, token=token)
    return flow


@dataclass(frozen=True)
class CheckoutJob:
    endpoint: Endpoint
    buyers: tuple
    start_at: float
    stop_at: float
    interval: float = 0.0

    def run(self) -> list[Flow]:
        client, flows = Client(self.endpoint), []
        supply = iter(self.buyers)
        for _turn in _paced(self.start_at, self.stop_at, self.interval):
            buyer = next(supply, None)
            if buyer is None:
                break
            flows.append(checkout_flow(client, buyer))
        client.close()
        return flows


# --- Probes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeJob:
    """The same request again and again (health, an anonymous read, an authenticated read)."""

    endpoint: Endpoint
    label: str
    path: str
    start_at: float
    stop_at: float
    interval: float
    token: str | None = None

    def run(self) -> list[Result]:
        client, results = Client(self.endpoint), []
        for _turn in _paced(self.start_at, self.stop_at, self.interval):
            results.append(client.send(self.label, "GET", self.path, token=self.token))
        client.close()
        return results


# --- Running jobs side by side ------------------------------------------------------------------


def _run(job):
    return job.run()


@contextlib.contextmanager
def client_pool(size: int):
    """Spawned client processes, terminated on the way out whatever happens."""
    pool = multiprocessing.get_context("spawn").Pool(size, initializer=_client_init)
    try:
        yield pool
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def start(pool, jobs: list):
    """Start every job at once; `.get(timeout)` of the answer gives their results in order."""
    return pool.map_async(_run, jobs, chunksize=1)


def starting_at(delay: float = START_SLACK) -> float:
    return time.monotonic() + delay

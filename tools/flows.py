"""What clients send, as jobs for the client processes: voters casting one vote each, buyers going
through checkout (cart, order, sandbox payment, approve) and plain probes, each until a deadline.
Every request is recorded, so the database can be checked against the answers. No Django here."""

import itertools
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tools.clients import Client, Reply, paced


@dataclass(frozen=True)
class Ballot:
    voter: int  # user id
    token: str
    candidate: int
    key: str  # Idempotency-Key: a vote whose answer was lost is retried with the same one


@dataclass(frozen=True)
class Buyer:
    user: int
    token: str
    course: int
    key: str  # Idempotency-Key of the payment


def vote_send(client: Client, poll_id: int, ballot: Ballot, label: str = "POST vote") -> Reply:
    path, body = f"/api/polls/{poll_id}/votes/", {"candidate": ballot.candidate}
    headers = {"Idempotency-Key": ballot.key}
    return client.send(label, "POST", path, token=ballot.token, body=body, headers=headers)


def vote_answer_right(result: Reply, poll_id: int, ballot: Ballot) -> bool:
    """A 201 that names this poll and this candidate (a 2xx with other data is wrong data)."""
    data = result.data if isinstance(result.data, dict) else {}
    return data.get("poll") == poll_id and data.get("candidate") == ballot.candidate


@dataclass
class Flow:
    """One buyer's purchase: each step's result, and what a retry of the approval needs."""

    buyer: Buyer
    steps: list = field(default_factory=list)
    payment_id: int | None = None
    approve_path: str | None = None

    @property
    def last(self) -> Reply:
        return self.steps[-1]

    @property
    def paid(self) -> bool:
        data = self.last.data if isinstance(self.last.data, dict) else {}
        return (
            self.last.label.startswith("GET approve")
            and self.last.status == 200
            and (data.get("status") == "paid")
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

    def step(label, method, path, **kwargs) -> Reply | None:
        result = client.send(label, method, path, **kwargs)
        flow.steps.append(result)
        return result if result.status == EXPECTED_STATUS[label] else None

    token = buyer.token
    if not step("POST cart item", "POST", "/api/cart/items/", token=token,
                body={"course": buyer.course}):  # fmt: skip
        return flow
    order = step("POST order", "POST", "/api/orders/", token=token, body={"from_cart": True})
    if not order or not isinstance(order.data, dict):
        return flow
    payment = step("POST payment", "POST", "/api/payments/", token=token,
                   body={"order": order.data["id"], "provider": "sandbox"},
                   headers={"Idempotency-Key": buyer.key})  # fmt: skip
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


def _paced(job, supply, send) -> list:
    """`send(client, item)` for each item of `supply`, one per `job.interval` from `job.start_at`
    until `job.stop_at` or the supply runs out; every result."""
    client, turns = Client(*job.server), paced(job.start_at, job.stop_at, job.interval)
    results = [send(client, item) for _turn, item in zip(turns, supply, strict=False)]
    client.close()
    return results


@dataclass(frozen=True)
class VoteJob:
    server: tuple  # (port, cafile) of tools.clients.Client
    poll_id: int
    ballots: tuple
    start_at: float
    stop_at: float
    interval: float = 0.0

    def run(self) -> list[tuple[Ballot, Reply]]:
        return _paced(self, self.ballots, lambda c, b: (b, vote_send(c, self.poll_id, b)))


@dataclass(frozen=True)
class CheckoutJob:
    server: tuple  # (port, cafile) of tools.clients.Client
    buyers: tuple
    start_at: float
    stop_at: float
    interval: float = 0.0

    def run(self) -> list[Flow]:
        return _paced(self, self.buyers, checkout_flow)


@dataclass(frozen=True)
class ProbeJob:
    """The same request again and again (health, an anonymous read, an authenticated read)."""

    server: tuple  # (port, cafile) of tools.clients.Client
    label: str
    path: str
    start_at: float
    stop_at: float
    interval: float
    token: str | None = None

    def run(self) -> list[Reply]:
        send = lambda c, _: c.send(self.label, "GET", self.path, token=self.token)  # noqa: E731
        return _paced(self, itertools.repeat(None), send)

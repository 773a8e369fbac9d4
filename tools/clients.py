"""HTTP(S) on loopback and load from spawned client processes: connections, what each request
got (Reply), a keep-alive Client, the pool and pacing. No Django here: client processes import it.
"""

import contextlib
import http.client
import json
import math
import multiprocessing
import signal
import ssl
import time
from dataclasses import dataclass

from tools.app import PROXIED, SERVER_NAME
from tools.procs import HOST, die_with_parent

# Longer than any answer a fault may legitimately take (gunicorn's own timeout is 30 s), so a
# hang shows up as a long latency rather than as a client-side give-up.
REQUEST_TIMEOUT = 40.0
# A response whose body stopped short: its upstream worker died mid-write, after nginx had
# passed the status line on; no proxy can answer anything else by then.
CUT_SHORT = "IncompleteRead"


def connect(port: int, cafile=None, *, host=HOST, source=HOST, timeout=REQUEST_TIMEOUT):
    """Plain HTTP to `host`, or HTTPS to SERVER_NAME trusting `cafile` (checked as a browser
    would: name and chain); `source` is the client's loopback address."""
    where = {"timeout": timeout, "source_address": (source, 0)}
    if cafile is None:
        return http.client.HTTPConnection(host, port, **where)
    context = ssl.create_default_context(cafile=cafile)
    return http.client.HTTPSConnection(SERVER_NAME, port, context=context, **where)


@dataclass(frozen=True)
class Reply:
    """What one request got; `error` names the exception when no (whole) response arrived.
    `started` is time.monotonic, shared by every process on Linux."""

    status: int | None
    header_list: list
    body: bytes
    label: str = ""
    path: str = ""
    started: float = 0.0
    latency: float = 0.0
    error: str | None = None

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, in order: a repeated header shows up more than once."""
        return [value for key, value in self.header_list if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        return next(iter(self.header_values(name)), None)

    headers = property(lambda self: dict(self.header_list))
    text = property(lambda self: self.body[:120].decode(errors="replace"))
    ended = property(lambda self: self.started + self.latency)
    retry_after = property(lambda self: self.header("Retry-After"))
    location = property(lambda self: self.header("Location"))
    replayed = property(lambda self: self.header("Idempotent-Replayed") == "true")

    def json(self):
        return json.loads(self.body)

    @property
    def data(self):
        """The parsed body when it is JSON, else None."""
        if "json" not in (self.header("Content-Type") or ""):
            return None
        with contextlib.suppress(ValueError):
            return self.json()
        return None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 400

    @property
    def code(self) -> str | None:
        """The error envelope's code, if the body is one."""
        data = self.data
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            return data["error"].get("code")
        return None

    @property
    def summary(self) -> str:
        """ "201", "503 service_unavailable", or the error when nothing came back."""
        if self.status is None:
            return self.error or "no answer"
        return f"{self.status} {self.code}" if self.code else str(self.status)


def exchange(conn, method: str, path: str, body=None, headers=None, label: str = "") -> Reply:
    """One request on `conn`; a dict or list body is sent as JSON. Connection errors raise."""
    headers = dict(headers or {})
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    began = time.monotonic()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    head = response.getheaders()
    try:
        payload, error = response.read(), None
    except http.client.IncompleteRead:  # the status line came; the body was cut short
        payload, error = b"", CUT_SHORT
    latency = time.monotonic() - began
    return Reply(response.status, head, payload, label, path, began, latency, error)


class Client:
    """A keep-alive connection to `port` (HTTPS trusting `cafile`, or plain HTTP straight to
    gunicorn, saying what nginx would), reopened after any failure."""

    def __init__(self, port: int, cafile: str | None = None):
        self.conn, self.proxied = connect(port, cafile), {} if cafile else PROXIED

    def close(self) -> None:
        self.conn.close()

    def send(self, label, method, path, *, token=None, body=None, headers=None) -> Reply:
        headers = {"Accept": "application/json", **self.proxied, **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        began = time.monotonic()
        try:
            reply = exchange(self.conn, method, path, body, headers, label)
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            latency, error = time.monotonic() - began, type(exc).__name__
            return Reply(None, [], b"", label, path, began, latency, error)
        if reply.error or (reply.header("Connection") or "").lower() == "close":
            self.conn.close()
        return reply


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _client_init() -> None:
    # Ctrl-C is handled once, by the parent; a killed parent takes the clients with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)


@contextlib.contextmanager
def pool(size: int):
    """Spawned client processes, terminated on the way out whatever happens."""
    workers = multiprocessing.get_context("spawn").Pool(size, initializer=_client_init)
    try:
        yield workers
        workers.close()
    finally:
        workers.terminate()
        workers.join()


def _run(job):
    return job.run()


def start(workers, jobs: list):
    """Start every job (an object with `run()`) at once; `.get(timeout)` gives their results."""
    return workers.map_async(_run, jobs, chunksize=1)


def starting_at(delay: float = 0.5) -> float:
    return time.monotonic() + delay


def wait_for(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def paced(start_at: float, stop_at: float, interval: float = 0.0):
    """Yield the turn of each request from `start_at` until `stop_at`, one per `interval`."""
    wait_for(start_at)
    turn = time.monotonic()
    while turn < stop_at:
        yield
        turn += interval
        if turn > time.monotonic():
            wait_for(turn)
        else:
            turn = time.monotonic()

"""One HTTPS client of the stack's nginx, and the record of each request it sent.

No Django here: the spawned load processes import this module.
"""

import http.client
import json
import ssl
import time
from dataclasses import dataclass

# Longer than any answer the faults may legitimately take (gunicorn's own timeout is 30 s), so a
# hang shows up as a long latency rather than as a client-side give-up.
REQUEST_TIMEOUT = 40.0
# Bodies up to this size are kept parsed in the record (health, errors, small objects).
KEPT_BODY_BYTES = 16384


# A response whose body stopped short: its upstream worker died mid-write, after nginx had
# passed the status line on; no proxy can answer anything else by then.
CUT_SHORT = "IncompleteRead"


@dataclass(frozen=True)
class Endpoint:
    """nginx's HTTPS port, reached by name with the stack's self-signed certificate as CA."""

    port: int
    cafile: str
    server_name: str = "localhost"

    def connect(self) -> http.client.HTTPSConnection:
        # http.client reopens a closed connection by itself, with the same context.
        context = ssl.create_default_context(cafile=self.cafile)
        return http.client.HTTPSConnection(
            self.server_name, self.port, timeout=REQUEST_TIMEOUT, context=context
        )


@dataclass(frozen=True)
class Result:
    """One request: when it started (time.monotonic, shared by every process on Linux), how long
    it took, and what came back; `error` names the exception when no response arrived."""

    label: str
    path: str
    started: float
    latency: float
    status: int | None = None
    error: str | None = None
    data: object = None  # parsed JSON body, when small and JSON
    text: str = ""  # the start of any other body, to show what answered
    retry_after: str | None = None
    location: str | None = None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400 and self.error is None

    @property
    def code(self) -> str | None:
        """The error envelope's code, if the body is one."""
        if isinstance(self.data, dict) and isinstance(self.data.get("error"), dict):
            return self.data["error"].get("code")
        return None

    @property
    def summary(self) -> str:
        """ "201", "503 service_unavailable", or the error when nothing came back."""
        if self.status is None:
            return self.error or "no answer"
        return f"{self.status} {self.code}" if self.code else str(self.status)

    @property
    def ended(self) -> float:
        return self.started + self.latency


class Client:
    """A keep-alive connection to nginx, reopened after any failure."""

    def __init__(self, endpoint: Endpoint):
        self.conn = endpoint.connect()

    def close(self) -> None:
        self.conn.close()

    def send(
        self,
        label: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict | None = None,
        headers: dict | None = None,
    ) -> Result:
        headers = {"Accept": "application/json", **(headers or {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        raw = None
        if body is not None:
            raw = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        began = time.monotonic()
        try:
            self.conn.request(method, path, body=raw, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except http.client.IncompleteRead:
            # The status line came: the worker was killed while it wrote the body.
            self.conn.close()
            latency = time.monotonic() - began
            return Result(label, path, began, latency, status=response.status, error=CUT_SHORT)
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            return Result(label, path, began, time.monotonic() - began, error=type(exc).__name__)
        latency = time.monotonic() - began
        data = None
        if "json" in (response.getheader("Content-Type") or "") and len(payload) <= KEPT_BODY_BYTES:
            try:
                data = json.loads(payload)
            except ValueError:
                data = None
        text = "" if data is not None else payload[:120].decode(errors="replace")
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return Result(
            label,
            path,
            began,
            latency,
            status=response.status,
            data=data,
            text=text,
            retry_after=response.getheader("Retry-After"),
            location=response.getheader("Location"),
            replayed=response.getheader("Idempotent-Replayed") == "true",
        )

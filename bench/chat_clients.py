"""Chat socket clients on loopback (the `websockets` asyncio client, uvloop), for bench/chat.py
and faults/scenario_chat.py: opening a socket with a ticket, and a process of many receiving
sockets driven over a pipe. No Django here: client processes import it."""

import asyncio
import contextlib
import json
import signal
import time
from collections import Counter, defaultdict

from tools.procs import HOST, die_with_parent

PROTOCOL = "chat.v1"
OPEN_TIMEOUT = 20.0
# Sockets opened at once by one process (each costs the server a few queries).
OPENING_AT_ONCE = 16


def url(port: int) -> str:
    return f"ws://{HOST}:{port}/ws/chat/"


async def open_socket(
    port: int, ticket: str, *, compression: str | None = "deflate", resume: bool = False
):
    """A socket opened with `ticket` as a browser would (permessage-deflate offered unless
    `compression` is None; no Origin: not a page) and its hello frame; raises if refused.
    `resume`: then send `resume` with the rooms' last seqs from hello and wait for
    `resume.done`, as a client that is up to date does first; until a client's first frame the
    server holds room news (for at most CHAT_RESUME_GRACE_SECONDS), so a silent socket would
    measure that wait."""
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    offered = [Subprotocol(PROTOCOL), Subprotocol(f"ticket.{ticket}")]
    ws = await connect(
        url(port), subprotocols=offered, compression=compression, proxy=None,
        open_timeout=OPEN_TIMEOUT, ping_interval=None, max_size=2**20, max_queue=None,
    )  # fmt: skip
    if ws.subprotocol != PROTOCOL:
        await ws.close()
        raise RuntimeError(f"the server chose subprotocol {ws.subprotocol!r}")
    hello = json.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT))
    if hello.get("type") != "hello":
        await ws.close()
        raise RuntimeError(f"first frame {hello}")
    if resume:
        rooms = {str(room["id"]): room["last_seq"] for room in hello["rooms"]}
        await ws.send(json.dumps({"type": "resume", "rooms": rooms}))
        while json.loads(await asyncio.wait_for(ws.recv(), OPEN_TIMEOUT))["type"] != "resume.done":
            pass  # nothing was missed: nothing comes before it
    return ws, hello


def sent_at(body: str) -> int | None:
    """The sender's time.monotonic_ns() at the end of a bench message's body."""
    with contextlib.suppress(ValueError, IndexError):
        return int(body.rsplit(" ", 1)[1])
    return None


class Tally:
    """What one socket received: per room, the seq of each message.new; per room of a process,
    the latency of each (receive time - the body's send time) and the first/last receive."""

    def __init__(self, rooms: set[int], shared: "Shared"):
        self.rooms, self.shared = rooms, shared
        self.seqs: dict[int, list[int]] = defaultdict(list)
        self.others: Counter[str] = Counter()
        self.closed = False

    def frame(self, raw: str, now_ns: int) -> None:
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind != "message.new":
            self.others[kind] += 1
            return
        message = frame["message"]
        room = message["room"]
        self.seqs[room].append(message["seq"])
        self.shared.record(room, now_ns, sent_at(message["body"]))


class Shared:
    """Per room, over every socket of a process: latencies (ns), first and last receive."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.latencies: dict[int, list[int]] = defaultdict(list)
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}

    def record(self, room: int, now_ns: int, sent_ns: int | None) -> None:
        self.first.setdefault(room, now_ns)
        self.last[room] = now_ns
        if sent_ns is not None:
            self.latencies[room].append(now_ns - sent_ns)


def verdicts(tallies: list[Tally], expected: dict[int, list[int]]) -> dict:
    """Per room: member sockets, deliveries, messages missing and repeated over every member
    socket, deliveries of seqs not expected (or to a socket not in the room), member sockets
    that received out of seq order, member sockets closed."""
    out = {}
    for room, seqs in expected.items():
        wanted = Counter(seqs)
        members = [t for t in tallies if room in t.rooms]
        got = [Counter(t.seqs.get(room, [])) for t in members]
        out[room] = {
            "members": len(members),
            "deliveries": sum(sum(c.values()) for c in got),
            "missing": sum(len(wanted - c) for c in got),
            "repeated": sum(sum((c - wanted).values()) for c in got),
            "disordered": sum(
                t.seqs.get(room, []) != sorted(t.seqs.get(room, [])) for t in members
            ),
            "strays": sum(len(t.seqs.get(room, [])) for t in tallies if room not in t.rooms),
        }
    return out


async def _read(ws, tally: Tally) -> None:
    with contextlib.suppress(Exception):
        async for raw in ws:
            tally.frame(raw, time.monotonic_ns())
    tally.closed = True


async def _receivers(conn, port: int, tickets: list[str], record: bool, compression) -> None:
    """Open a socket per ticket, then answer the parent's commands until told to close."""
    loop, shared = asyncio.get_running_loop(), Shared()
    gate = asyncio.Semaphore(OPENING_AT_ONCE)
    sockets, tallies, readers = [], [], []
    refused: Counter[str] = Counter()

    async def open_one(ticket: str) -> None:
        async with gate:
            try:
                # A measured socket starts as a live client does; an idle one stays silent.
                ws, hello = await open_socket(port, ticket, compression=compression, resume=record)
            except Exception as exc:
                refused[type(exc).__name__] += 1
                return
        tally = Tally({room["id"] for room in hello["rooms"]}, shared)
        sockets.append(ws)
        tallies.append(tally)
        readers.append(asyncio.create_task(_read(ws, tally if record else Tally(set(), shared))))

    began = time.monotonic()
    await asyncio.gather(*(open_one(ticket) for ticket in tickets))
    conn.send({"open": len(sockets), "refused": dict(refused), "seconds": time.monotonic() - began})
    while True:
        command, argument = await loop.run_in_executor(None, conn.recv)
        if command == "progress":  # deliveries so far in room `argument`
            conn.send(sum(len(t.seqs.get(argument, [])) for t in tallies))
        elif command == "report":  # argument: room -> the seqs every member must get once
            closed = sum(ws.close_code is not None for ws in sockets)
            conn.send({"rooms": verdicts(tallies, argument), "closed": closed,
                       "latencies": {r: shared.latencies.get(r, []) for r in argument},
                       "first": shared.first, "last": shared.last})  # fmt: skip
            for tally in tallies:
                tally.seqs.clear()
            shared.reset()
        elif command == "close":
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
            for task in readers:
                task.cancel()
            conn.send(len(sockets))
            return


def receivers_main(conn, port: int, tickets: list[str], record: bool, compression) -> None:
    """A client process: one socket per ticket on one event loop (uvloop), driven over `conn`:
    ("progress", room), ("report", {room: seqs}), ("close", None)."""
    import uvloop

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(signal.SIGKILL)
    uvloop.run(_receivers(conn, port, tickets, record, compression))

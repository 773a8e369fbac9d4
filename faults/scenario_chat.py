"""Scenario 4: Redis restarted (stopped, then started empty on the same port) while 50 clients
chat over WebSocket through two ASGI instances. Clients send with client_msg_ids at a steady
rate; a client whose socket drops gets a new ticket over REST (through nginx), reconnects,
sends `resume` and resends what was not acknowledged, with the same client_msg_ids. Afterwards
every acknowledged message is in PostgreSQL exactly once, every room's seqs have no gap, and
every client received every seq of its room exactly once, in order."""

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field

from bench import chat_clients
from faults.context import Context, print_timeline
from tools import app, fixtures
from tools.clients import Client
from tools.fixtures import Check
from tools.procs import free_port, stop

CLIENTS, ROOM_SIZE, INSTANCES = 50, 10, 2
SEND_EVERY = 2.0  # seconds between a client's messages: 25 messages/s in all
RESEND_AFTER = 3.0  # an unacknowledged send is sent again (same client_msg_id) after this
STEADY, DOWN, AFTER, SETTLE = 5.0, 3.0, 8.0, 15.0
RECONNECT_PAUSE = 0.3
# The servers' ping and session re-check interval, shorter than the default 20 s so that what a
# socket does on its heartbeat happens within the scenario.
PING = "5"


@dataclass
class Chatter:
    """One client and everything it was told."""

    index: int
    user_id: int
    token: str
    room: int
    port: int
    http_server: tuple  # nginx's HTTPS port and its certificate, for tickets
    pending: dict = field(default_factory=dict)  # client_msg_id -> (body, last sent, monotonic)
    acked: dict = field(default_factory=dict)  # client_msg_id -> seq
    sent: set = field(default_factory=set)
    seqs: list = field(default_factory=list)  # seqs of its room's message.new, as received
    baseline: int | None = None  # the room's last seq in the first hello
    last_seen: int = 0
    connects: int = 0
    resumes: int = 0
    closes: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    ticket_failures: Counter = field(default_factory=Counter)

    def frame(self, client_msg_id: str) -> str:
        body = self.pending[client_msg_id][0]
        return json.dumps({"type": "message.send", "room": self.room, "ref": client_msg_id,
                           "client_msg_id": client_msg_id, "body": body})  # fmt: skip


@fixtures.closing
def prepare() -> list[tuple[int, str, int]]:
    """CLIENTS users in rooms of ROOM_SIZE (each room made by its first member, friends with the
    others, through chat.services); (user id, access token, room id) per client."""
    from chat.models import Friendship
    from chat.services.rooms import group_room_create

    people = fixtures.users("faults-chat-", CLIENTS)
    tokens = fixtures.tokens(people, "faults/scenario_chat.py")
    rooms = {}
    for start in range(0, CLIENTS, ROOM_SIZE):
        owner, others = people[start], people[start + 1 : start + ROOM_SIZE]
        Friendship.objects.bulk_create(Friendship(user_low=owner, user_high=o) for o in others)
        room = group_room_create(user=owner, title=f"faults chat {start // ROOM_SIZE}",
                                 member_ids=[o.pk for o in others])  # fmt: skip
        rooms.update({person.pk: room.pk for person in people[start : start + ROOM_SIZE]})
    return [(p.pk, t, rooms[p.pk]) for p, t in zip(people, tokens, strict=True)]


def _ticket(http: Client, chatter: Chatter) -> str | None:
    reply = http.send("POST ws-ticket", "POST", "/api/chat/ws-ticket/", token=chatter.token)
    if reply.status != 201:
        chatter.ticket_failures[reply.summary] += 1
        return None
    return reply.data["ticket"]


async def _read(ws, chatter: Chatter) -> None:
    async for raw in ws:
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "message.new" and frame["message"]["room"] == chatter.room:
            seq = frame["message"]["seq"]
            chatter.seqs.append(seq)
            chatter.last_seen = max(chatter.last_seen, seq)
        elif kind == "message.ack":
            chatter.acked[frame["client_msg_id"]] = frame["seq"]
            chatter.pending.pop(frame["client_msg_id"], None)
        elif kind == "error":
            chatter.errors[frame.get("code")] += 1
            ref = frame.get("ref")
            if ref in chatter.pending:  # resent once its wait is over
                body, _sent = chatter.pending[ref]
                wait = frame.get("retry_after", 1) - RESEND_AFTER
                chatter.pending[ref] = (body, time.monotonic() + wait)
        elif kind == "resync_required":
            chatter.errors["resync_required"] += 1


async def _send(ws, chatter: Chatter, sending: asyncio.Event) -> None:
    """A new message every SEND_EVERY s while `sending`; unacknowledged ones again after
    RESEND_AFTER s, with the same client_msg_id."""
    turn, number = time.monotonic() + random.uniform(0, SEND_EVERY), len(chatter.sent)  # nosec B311
    while True:
        now = time.monotonic()
        if sending.is_set() and now >= turn:
            client_msg_id = f"c{chatter.index}-{number}"
            number += 1
            chatter.sent.add(client_msg_id)
            chatter.pending[client_msg_id] = (f"chatter {chatter.index} says {number}", now)
            await ws.send(chatter.frame(client_msg_id))
            turn += SEND_EVERY
        for client_msg_id, (body, sent) in list(chatter.pending.items()):
            if now - sent >= RESEND_AFTER:
                chatter.pending[client_msg_id] = (body, now)
                await ws.send(chatter.frame(client_msg_id))
        await asyncio.sleep(0.05)


async def _chat(chatter: Chatter, sending: asyncio.Event, done: asyncio.Event) -> None:
    """Keep a socket open until `done`: on every (re)connect a fresh ticket, then `resume` and
    the unacknowledged sends again."""
    http = Client(*chatter.http_server)
    try:
        while not done.is_set():
            ticket = await asyncio.to_thread(_ticket, http, chatter)
            try:
                if ticket is None:
                    raise ConnectionError("no ticket")
                ws, hello = await chat_clients.open_socket(chatter.port, ticket, compression=None)
            except Exception as exc:
                chatter.errors[f"connect: {type(exc).__name__}"] += 1
                await asyncio.sleep(RECONNECT_PAUSE)
                continue
            chatter.connects += 1
            if chatter.baseline is None:
                rooms = {room["id"]: room["last_seq"] for room in hello["rooms"]}
                chatter.baseline = chatter.last_seen = rooms[chatter.room]
            else:
                resume = {"type": "resume", "rooms": {str(chatter.room): chatter.last_seen}}
                try:
                    await ws.send(json.dumps(resume))
                except Exception as exc:  # closed again at once: reconnect
                    chatter.errors[f"resume: {type(exc).__name__}"] += 1
                    chatter.closes[ws.close_code] += 1
                    continue
                chatter.resumes += 1
            for client_msg_id in list(chatter.pending):
                chatter.pending[client_msg_id] = (chatter.pending[client_msg_id][0], 0.0)
            tasks = [asyncio.create_task(_read(ws, chatter)),
                     asyncio.create_task(_send(ws, chatter, sending)),
                     asyncio.create_task(done.wait())]  # fmt: skip
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()
            if not done.is_set():
                chatter.closes[ws.close_code] += 1
                await asyncio.sleep(RECONNECT_PAUSE)
    finally:
        http.close()


def _settled(chatters: list[Chatter]) -> bool:
    """Nothing left unacknowledged, and every client has its room's latest acknowledged seq."""
    latest: Counter[int] = Counter()
    for chatter in chatters:
        for seq in chatter.acked.values():
            latest[chatter.room] = max(latest[chatter.room], seq)
    return all(not c.pending and c.last_seen >= latest[c.room] for c in chatters)


async def _conversation(ctx: Context, chatters: list[Chatter], events: list) -> None:
    sending, done = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(_chat(chatter, sending, done)) for chatter in chatters]
    began = time.monotonic()
    while sum(c.connects > 0 for c in chatters) < len(chatters):
        if time.monotonic() - began > 30:
            raise RuntimeError("the chat clients could not all connect")
        await asyncio.sleep(0.1)
    sending.set()
    events.append(("sending", time.monotonic()))
    await asyncio.sleep(STEADY)
    await asyncio.to_thread(ctx.stack.redis.stop)
    events.append(("redis stopped", time.monotonic()))
    await asyncio.sleep(DOWN)
    # In this thread, not a pool thread: the server gets its parent-death signal when the thread
    # that started it ends (PR_SET_PDEATHSIG), and asyncio's pool threads end with this scenario,
    # which left Redis dead for the scenarios after it.
    ctx.stack.redis.start()
    events.append(("redis started (empty)", time.monotonic()))
    await asyncio.sleep(AFTER)
    sending.clear()
    events.append(("sending stopped", time.monotonic()))
    settle_by = time.monotonic() + SETTLE
    while not _settled(chatters) and time.monotonic() < settle_by:
        await asyncio.sleep(0.1)
    events.append(("settled" if _settled(chatters) else "gave up settling", time.monotonic()))
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)


@fixtures.closing
def _database_checks(chatters: list[Chatter]) -> list[Check]:
    from chat.models import Message, Room

    rooms = {c.room for c in chatters}
    stored = {
        (sender, client_msg_id): (room, seq)
        for sender, client_msg_id, room, seq in Message.objects.filter(room_id__in=rooms)
        .values_list("sender_id", "client_msg_id", "room_id", "seq")
    }  # fmt: skip
    rows = Message.objects.filter(room_id__in=rooms).count()
    acked = {(c.user_id, m): (c.room, seq) for c in chatters for m, seq in c.acked.items()}
    wrong = sum(stored.get(key) != value for key, value in acked.items())
    unasked = set(stored) - {(c.user_id, m) for c in chatters for m in c.sent}
    last_seq = dict(Room.objects.filter(pk__in=rooms).values_list("pk", "last_seq"))
    gaps = []
    for room in rooms:
        seqs = sorted(seq for (r, seq) in stored.values() if r == room)
        if seqs != list(range(1, last_seq[room] + 1)):
            gaps.append(room)
    sent = sum(len(c.sent) for c in chatters)
    unacked = sum(len(c.sent - set(c.acked)) for c in chatters)
    missing, repeated, disordered, strays = 0, 0, 0, 0
    for c in chatters:
        wanted = Counter(range((c.baseline or 0) + 1, last_seq[c.room] + 1))
        got = Counter(c.seqs)
        missing += sum((wanted - got).values())
        extra = got - wanted
        repeated += sum(n for seq, n in extra.items() if seq in wanted)
        strays += sum(n for seq, n in extra.items() if seq not in wanted)
        disordered += c.seqs != sorted(c.seqs)
    delivered = sum(len(c.seqs) for c in chatters)
    short = [c for c in chatters if c.last_seen < last_seq[c.room]]
    if short:
        print(
            "  clients missing their room's latest messages (client: sockets opened, last seq "
            "received / room's last seq): "
            + ", ".join(f"{c.index}: {c.connects}, {c.last_seen}/{last_seq[c.room]}" for c in short)
        )
    return [
        Check("every send acknowledged in the end (retried with the same client_msg_id)",
              unacked == 0, f"{sent} sent, {unacked} never acknowledged"),
        Check("every acknowledged message is in PostgreSQL exactly once, with the acked seq",
              wrong == 0 and len(stored) == rows,
              f"{len(acked)} acknowledged, {wrong} missing or with another room/seq; {rows} rows"),
        Check("no message stored that no client sent", not unasked, str(len(unasked))),
        Check("every room's seqs are 1..last_seq without a gap", not gaps,
              f"{len(rooms)} rooms, gaps in {sorted(gaps) or 'none'}"),
        Check("every client received every seq of its room exactly once, in order",
              missing == repeated == disordered == strays == 0,
              f"{delivered} received: {missing} missing, {repeated} repeated, {strays} unknown "
              f"seqs, {disordered} clients out of order"),
    ]  # fmt: skip


def _log_message(line: str) -> str:
    """A log line's message (JSON lines as production logs them), shortened."""
    with contextlib.suppress(ValueError, AttributeError):
        record = json.loads(line)
        return str(record.get("message") or record.get("msg") or record)[:90]
    return line[:90]


def run(ctx: Context) -> list[Check]:
    people = prepare()
    env = {**ctx.stack.env, "CHAT_LAYER_PREFIX": "faults-chat", "CHAT_PING_SECONDS": PING}
    ports = [free_port() for _ in range(INSTANCES)]
    logs = ctx.stack.run_dir / "logs"
    servers = {f"asgi-{i}": app.asgi(env, port, logs / f"asgi-chat-{i}.log")
               for i, port in enumerate(ports)}  # fmt: skip
    events: list = []
    try:
        for port in ports:
            app.wait_healthy(port, servers)
        chatters = [
            Chatter(index, user_id, token, room, ports[index % INSTANCES], ctx.server)
            for index, (user_id, token, room) in enumerate(people)
        ]
        began = time.monotonic()
        asyncio.run(_conversation(ctx, chatters, events))
        took = time.monotonic() - began
    finally:
        stop(servers)
    layer = env.get("CHAT_CHANNEL_LAYER") or "pubsub (default)"
    print(f"\n== 4. Redis restarted while {CLIENTS} clients chat ({INSTANCES} ASGI instances, "
          f"channel layer {layer}, rooms of {ROOM_SIZE}), {took:.0f} s")  # fmt: skip
    print_timeline(events, events[0][1])
    closes = sum((c.closes for c in chatters), Counter())
    errors = sum((c.errors for c in chatters), Counter())
    tickets = sum((c.ticket_failures for c in chatters), Counter())
    print(
        f"  sockets dropped (close code x count): {dict(closes) or 'none'}; reconnects "
        f"{sum(c.connects for c in chatters) - len(chatters)}, resumes "
        f"{sum(c.resumes for c in chatters)}; error frames / failed connects: "
        f"{dict(errors) or 'none'}; ticket requests failed: {dict(tickets) or 'none'}"
    )
    for name in servers:
        text = (logs / f"asgi-chat-{name.split('-')[1]}.log").read_text(errors="replace")
        found = Counter(
            _log_message(line) for line in text.splitlines()
            if line[:1].strip() and not line.startswith("Traceback")
            and any(word in line for word in ("Error", "Exception", "error", "exception"))
        )  # fmt: skip
        if found:
            print(f"  {name} log: " + "; ".join(f"{k} x{n}" for k, n in found.most_common(4)))
    settled = events[-1][0] == "settled"
    return [
        Check(f"clients settle within {SETTLE:g} s of the last send", settled),
        *_database_checks(chatters),
    ]

"""The chat sockets as deployed: two ASGI instances (the `ws` service) behind nginx (TLS), sharing
PostgreSQL and Redis, and a real WebSocket client (`websockets`). A message crosses instances in
order; logout closes the session's sockets on every instance; a foreign Origin is refused; an idle
socket outlives nginx's read timeout; `resume` fills exactly the gap left by a killed instance; no
log holds a ticket. e2e/test_chat_browser.py drives the same stack from Chromium."""

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
import uuid

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tools import app
from tools.app import SERVER_NAME
from tools.cpu import process_stats
from tools.procs import HOST, free_port
from tools.stack import Stack, stack

PASSWORD = "chat-pass-1234"
# This run's server ping and nginx's read timeout for /ws/: twice the ping, as production's 75 s
# is well above its 20 s, but short enough to wait past.
PING_SECONDS = 2
WS_READ_TIMEOUT = 4
# nginx's cap on open sockets per client address, for this run: a few more than any other test
# holds at once through nginx.
SOCKETS_PER_CLIENT = 6
RECEIVE_TIMEOUT = 5.0
PEOPLE = """
import json, secrets
from django.contrib.auth.hashers import make_password
from accounts.models import CustomUser
from chat.services.friends import friend_request_accept, friend_request_send
from chat.services.rooms import direct_room_open

hashed = make_password(PASSWORD)  # one Argon2 hash (a costly one) for everybody

def person():
    name = "chat" + secrets.token_hex(5)
    user = CustomUser.objects.create_user(f"{name}@example.com", name, None)
    user.password = hashed
    user.save(update_fields=["password"])
    return {"id": user.pk, "email": user.email}, user

pairs = []
for _ in range(COUNT):
    (a, first), (b, second) = person(), person()
    room = None
    if FRIENDS:
        request, _accepted = friend_request_send(user=first, user_id=second.pk)
        friend_request_accept(user=second, request_id=request.pk)
        room = direct_room_open(user=first, user_id=second.pk)[0].pk
    pairs.append({"a": a, "b": b, "room": room})
print(json.dumps(pairs))
"""
CHAT_STACK = pytest.StashKey[Stack | None]()


def chat_stack(config: pytest.Config) -> Stack:
    """One stack for every chat module of the session (a fixture imported into two modules would
    start two), stopped when the session ends. The page origin of e2e/test_chat_browser.py may
    open sockets and call the API (CHAT_ALLOWED_ORIGINS, CORS_ALLOWED_ORIGINS)."""
    if CHAT_STACK not in config.stash:
        exits = contextlib.ExitStack()
        config.add_cleanup(exits.close)
        frontend = f"https://localhost:{free_port()}"
        config.stash[CHAT_STACK] = None  # a stack that failed to start is not tried again
        config.stash[CHAT_STACK] = exits.enter_context(
            stack(
                instances=1,
                asgi_instances=2,
                access_log=True,  # every log a deployment writes, for the ticket check
                nginx_values={
                    "NGINX_WS_READ_TIMEOUT": f"{WS_READ_TIMEOUT}s",
                    "NGINX_WS_CONNECTIONS_PER_CLIENT": str(SOCKETS_PER_CLIENT),
                },
                CHAT_PING_SECONDS=str(PING_SECONDS),
                CHAT_ALLOWED_ORIGINS=frontend,
                CORS_ALLOWED_ORIGINS=frontend,
                THROTTLE_LOGIN_IP="1000/min",
            )
        )
    running = config.stash[CHAT_STACK]
    if running is None:
        pytest.fail("the chat stack failed to start (see the first error)")
    return running


def pairs_create(chat: Stack, count: int, *, friends: bool = True) -> list[dict]:
    """`count` pairs of users: [{"a", "b", "room"}], friends with their direct room (else
    strangers, room None)."""
    values = {"COUNT": str(count), "PASSWORD": repr(PASSWORD), "FRIENDS": str(friends)}
    code = PEOPLE
    for name, value in values.items():
        code = code.replace(name, value)
    # The last line: Django's shell may first say what it imported.
    return json.loads(chat.manage("shell", "-c", code).splitlines()[-1])


@pytest.fixture(scope="module")
def chat(request) -> Stack:
    return chat_stack(request.config)


@pytest.fixture(scope="module")
def pairs(chat) -> list[dict]:
    return pairs_create(chat, 12)


@pytest.fixture
def pair(pairs) -> dict:
    """Two friends and their room that no other test has used."""
    return pairs.pop()


# --- REST through nginx (blocking: run in a thread while sockets are open) ----------------------


def login(chat: Stack, email: str) -> dict:
    reply = chat.request("POST", "/api/auth/login/", body={"login": email, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return reply.json()


def ticket_of(chat: Stack, access: str) -> str:
    headers = {"Authorization": f"Bearer {access}"}
    reply = chat.request("POST", "/api/chat/ws-ticket/", headers=headers)
    assert reply.status == 201, reply.body
    return reply.json()["ticket"]


# --- The socket client ---------------------------------------------------------------------------


class Frames(logging.Handler):
    """What websockets logs of a connection at DEBUG: "< PING ..." for each ping it received."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())

    def pings(self) -> int:
        return sum(line.startswith("< PING") for line in self.lines)


class Client:
    """One socket; the client sends no pings of its own, so only the server keeps it busy."""

    def __init__(self, conn: ClientConnection, frames: Frames):
        self.conn, self.frames = conn, frames
        self.hello: dict = {}

    async def send(self, frame: dict) -> None:
        await self.conn.send(json.dumps(frame))

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict:
        return json.loads(await asyncio.wait_for(self.conn.recv(), timeout))

    async def receive_type(self, kind: str, timeout: float = RECEIVE_TIMEOUT) -> dict:
        """The next frame of this type, skipping others (presence...)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.receive(max(0.01, deadline - time.monotonic()))
            if frame["type"] == kind:
                return frame

    async def closed(self, timeout: float = RECEIVE_TIMEOUT) -> tuple[int | None, list[dict]]:
        """Wait for the server to close: (close code, frames received before it)."""
        frames = []
        with contextlib.suppress(ConnectionClosed):
            while True:
                frames.append(await self.receive(timeout))
        return self.conn.close_code, frames

    async def close(self) -> None:
        await self.conn.close()


async def open_client(
    chat: Stack, ticket: str, *, port=None, origin=None, greet=True, source=HOST
) -> Client:
    """A socket through nginx (wss://, trusting the stack's certificate), or straight to the ASGI
    instance on `port` as nginx would forward it; `greet`: wait for `hello`. `source` is the
    client's loopback address."""
    frames = Frames()
    logger = logging.getLogger(f"e2e.chat.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(frames)
    where = {"additional_headers": app.PROXIED} if port else {"ssl": chat.ssl_context()}
    where |= {"host": HOST, "local_addr": (source, 0)}
    conn = await connect(
        chat.ws_url(port=port),
        subprotocols=[Subprotocol("chat.v1"), Subprotocol(f"ticket.{ticket}")],
        origin=origin,
        proxy=None,
        ping_interval=None,
        logger=logger,
        open_timeout=RECEIVE_TIMEOUT,
        **where,
    )
    assert conn.subprotocol == "chat.v1"
    client = Client(conn, frames)
    if greet:
        client.hello = await client.receive()
        assert client.hello["type"] == "hello", client.hello
    return client


async def open_for_session(chat: Stack, access: str, *, port=None, origin=None) -> Client:
    """A socket of the login session of the `access` token, on a ticket from the API."""
    ticket = await asyncio.to_thread(ticket_of, chat, access)
    return await open_client(chat, ticket, port=port, origin=origin)


async def open_for(chat: Stack, email: str, *, port=None, origin=None) -> tuple[Client, dict]:
    """Log `email` in (REST) and open a socket; the client and the login."""
    session = await asyncio.to_thread(login, chat, email)
    client = await open_for_session(chat, session["access"], port=port, origin=origin)
    return client, session


def send_frame(room: int, body: str) -> dict:
    return {"type": "message.send", "room": room, "client_msg_id": str(uuid.uuid4()), "body": body}


async def send_all(client: Client, room: int, bodies: list[str]) -> list[int]:
    """Send each message and wait for every ack; their seqs, in order of sending."""
    frames = [send_frame(room, body) for body in bodies]
    for frame in frames:
        await client.send(frame)
    acks: dict[str, int] = {}
    while len(acks) < len(frames):
        ack = await client.receive_type("message.ack")
        acks[ack["client_msg_id"]] = ack["seq"]
    return [acks[frame["client_msg_id"]] for frame in frames]


async def received(client: Client, count: int) -> list[dict]:
    """The next `count` message.new frames' messages, in order of arrival."""
    return [(await client.receive_type("message.new"))["message"] for _ in range(count)]


# --- Tests ---------------------------------------------------------------------------------------


def test_a_message_sent_through_one_instance_reaches_a_member_on_the_other_in_order(chat, pair):
    async def scenario():
        sender, _ = await open_for(chat, pair["a"]["email"], port=chat.asgi_ports[0])
        reader, _ = await open_for(chat, pair["b"]["email"], port=chat.asgi_ports[1])
        bodies = [f"message {n}" for n in range(1, 21)]
        seqs = await send_all(sender, pair["room"], bodies)
        messages = await received(reader, 20)
        more = await asyncio.gather(reader.receive(0.5), return_exceptions=True)
        await sender.close()
        await reader.close()
        return seqs, messages, more[0]

    seqs, messages, more = asyncio.run(scenario())
    assert seqs == list(range(1, 21))
    assert [message["seq"] for message in messages] == list(range(1, 21))
    assert [message["body"] for message in messages] == [f"message {n}" for n in range(1, 21)]
    assert {message["room"] for message in messages} == {pair["room"]}
    assert {message["sender"]["id"] for message in messages} == {pair["a"]["id"]}
    assert isinstance(more, TimeoutError), f"nothing after the 20th, got {more}"


def test_logout_closes_that_sessions_sockets_on_both_instances_within_a_second(chat, pair):
    email = pair["a"]["email"]

    async def scenario():
        session = await asyncio.to_thread(login, chat, email)
        tickets = [await asyncio.to_thread(ticket_of, chat, session["access"]) for _ in range(2)]
        ended = [
            await open_client(chat, t, port=port)
            for t, port in zip(tickets, chat.asgi_ports, strict=True)
        ]
        # Another login of the same user keeps its socket.
        other, _ = await open_for(chat, email, port=chat.asgi_ports[1])
        body = {"refresh": session["refresh"]}
        logout = await asyncio.to_thread(chat.request, "POST", "/api/auth/logout/", body=body)
        answered = time.monotonic()
        assert logout.status == 204, logout.body
        closes = await asyncio.gather(*(client.closed() for client in ended))
        elapsed = time.monotonic() - answered
        await other.send({"type": "ping", "ref": "still-open"})
        pong = await other.receive_type("pong")
        await other.close()
        ticket_after = await asyncio.to_thread(
            chat.request, "POST", "/api/chat/ws-ticket/",
            headers={"Authorization": f"Bearer {session['access']}"},
        )  # fmt: skip
        return closes, elapsed, pong, ticket_after

    closes, elapsed, pong, ticket_after = asyncio.run(scenario())
    for code, frames in closes:
        assert code == 4001
        assert [frame["code"] for frame in frames if frame["type"] == "error"] == [
            "session_revoked"
        ]
    assert elapsed < 1.0, f"sockets closed {elapsed:.2f} s after the logout was answered"
    assert pong["ref"] == "still-open"
    assert ticket_after.status == 401


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "null", "https://localhost.evil.example", "{page}.evil.example"],
)
def test_a_page_of_a_foreign_origin_gets_no_socket(chat, pair, origin):
    """Cross-site WebSocket hijacking: the browser sends the cookie-less ticket a page stole or
    was handed, from its own origin; the server closes with 4003 before saying anything."""
    page = chat.env["CHAT_ALLOWED_ORIGINS"]
    origin = origin.format(page=page)

    async def scenario():
        session = await asyncio.to_thread(login, chat, pair["a"]["email"])
        ticket = await asyncio.to_thread(ticket_of, chat, session["access"])
        refused = await open_client(chat, ticket, origin=origin, greet=False)
        code, frames = await refused.closed()
        # The control: the allowed page's origin is let in with a fresh ticket.
        ticket = await asyncio.to_thread(ticket_of, chat, session["access"])
        allowed = await open_client(chat, ticket, origin=page)
        await allowed.close()
        return code, frames, allowed.hello

    code, frames, hello = asyncio.run(scenario())
    assert code == 4003
    assert frames == [], "nothing is said to a foreign page"
    assert hello["user"]["id"] == pair["a"]["id"]


def test_the_sites_own_page_on_its_port_gets_a_socket_and_another_port_does_not(chat, pair):
    """The site served on a port other than 443 is its own origin: nginx forwards the Host with
    the port, and the Origin check compares the page's origin with it. The same host on
    another port is another origin (another server: it may be anyone's)."""
    own = chat.base_url
    assert own not in chat.env["CHAT_ALLOWED_ORIGINS"]
    other_port = f"https://{SERVER_NAME}:{chat.http_port}"

    async def scenario():
        session = await asyncio.to_thread(login, chat, pair["a"]["email"])
        tickets = [await asyncio.to_thread(ticket_of, chat, session["access"]) for _ in range(2)]
        refused = await open_client(chat, tickets[0], origin=other_port, greet=False)
        code, _frames = await refused.closed()
        accepted = await open_client(chat, tickets[1], origin=own)
        await accepted.close()
        return code, accepted.hello

    code, hello = asyncio.run(scenario())
    assert code == 4003
    assert hello["user"]["id"] == pair["a"]["id"]


def test_an_idle_socket_outlives_nginxs_read_timeout_on_the_servers_pings(chat, pair):
    conf = (chat.run_dir / "nginx" / "conf.d" / "default.conf").read_text()
    assert f"proxy_read_timeout {WS_READ_TIMEOUT}s;" in conf  # this run's short one
    idle = WS_READ_TIMEOUT + 2

    async def scenario():
        client, _ = await open_for(chat, pair["a"]["email"])
        await asyncio.sleep(idle)  # the client sends nothing, not even pings
        await client.send({"type": "ping", "ref": "after-idle"})
        pong = await client.receive_type("pong")
        await client.close()
        return pong, client.frames.pings()

    pong, pings = asyncio.run(scenario())
    assert pong["ref"] == "after-idle"
    assert pings >= idle // PING_SECONDS - 1, "the server's pings kept it open"


def _kill_instance(chat: Stack, index: int) -> None:
    """SIGKILL an ASGI instance, master and workers, as when its host dies."""
    master = chat.processes[f"asgi-{index}"]
    workers = [pid for pid, fields in process_stats().items() if fields[1] == str(master.pid)]
    master.kill()
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    master.wait()


def _restart_instance(chat: Stack, index: int) -> None:
    chat.asgi_start(index)
    app.wait_healthy(chat.asgi_ports[index], chat.processes)


def test_after_an_instance_dies_resume_on_the_other_fills_the_gap_exactly(chat, pair):
    room = pair["room"]

    async def scenario():
        sender, _ = await open_for(chat, pair["a"]["email"], port=chat.asgi_ports[0])
        reader, session = await open_for(chat, pair["b"]["email"], port=chat.asgi_ports[1])
        await send_all(sender, room, ["before 1", "before 2", "before 3"])
        seen = [message["seq"] for message in await received(reader, 3)]
        _kill_instance(chat, 1)
        code, _frames = await reader.closed()
        while_away = await send_all(sender, room, [f"away {n}" for n in range(1, 6)])
        # Back through nginx: the dead instance refuses the connection, nginx tries the other.
        ticket = await asyncio.to_thread(ticket_of, chat, session["access"])
        back = await open_client(chat, ticket)
        await back.send({"type": "resume", "rooms": {str(room): seen[-1]}, "ref": "r"})
        resumed = []
        while (frame := await back.receive())["type"] != "resume.done":
            resumed.append(frame)
        await send_all(sender, room, ["after"])
        live = await received(back, 1)
        more = await asyncio.gather(back.receive(0.5), return_exceptions=True)
        await sender.close()
        await back.close()
        return seen, code, while_away, back.hello, resumed, live, more[0]

    try:
        seen, code, while_away, hello, resumed, live, more = asyncio.run(scenario())
    finally:
        _restart_instance(chat, 1)
    assert seen == [1, 2, 3]
    assert code == 1006, "the connection dropped, no close frame"
    assert while_away == [4, 5, 6, 7, 8]
    assert {"id": room, "last_seq": 8} in hello["rooms"]
    assert [frame["type"] for frame in resumed] == ["message.new"] * 5
    assert [frame["message"]["seq"] for frame in resumed] == while_away
    assert [frame["message"]["body"] for frame in resumed] == [f"away {n}" for n in range(1, 6)]
    assert [message["seq"] for message in live] == [9]
    assert isinstance(more, TimeoutError), f"nothing twice, got {more}"


def test_no_log_of_nginx_or_the_servers_holds_a_ticket(chat, pair):
    async def scenario():
        session = await asyncio.to_thread(login, chat, pair["a"]["email"])
        tickets = [await asyncio.to_thread(ticket_of, chat, session["access"]) for _ in range(3)]
        through_nginx = await open_client(chat, tickets[0])
        direct = await open_client(chat, tickets[1], port=chat.asgi_ports[0])
        foreign = await open_client(chat, tickets[2], origin="https://evil.example", greet=False)
        reused = await open_client(chat, tickets[0], greet=False)
        refusals = [await foreign.closed(), await reused.closed()]
        for client in (through_nginx, direct):
            await client.close()
        return tickets, refusals

    tickets, refusals = asyncio.run(scenario())
    assert [code for code, _frames in refusals] == [4003, 4001]
    # nginx writes a socket's access log line when it ends: the right file, with the handshakes.
    access_log, deadline = chat.run_dir / "nginx" / "access.log", time.monotonic() + 10
    while access_log.read_text(errors="replace").count('"GET /ws/chat/ HTTP/1.1" 101') < 3:
        assert time.monotonic() < deadline, "the handshakes never reached nginx's access log"
        time.sleep(0.1)
    logs = {path: path.read_text(errors="replace") for path in chat.run_dir.rglob("*.log")}
    assert any("asgi-" in path.name and text for path, text in logs.items())
    for ticket in tickets:
        leaks = [path.name for path, text in logs.items() if ticket in text]
        assert not leaks, f"a ticket in {leaks}"


async def _opened_once_counted_out(chat: Stack, ticket: str) -> Client:
    """nginx counts a closed socket out once its connection ends, a moment after the close:
    until then (at most 5 s) a new socket is refused with 429, which does not spend the ticket."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return await open_client(chat, ticket)
        except InvalidStatus as refused:
            if refused.response.status_code != 429 or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def test_nginx_caps_the_sockets_open_at_once_per_client_address(chat, pair):
    async def scenario():
        session = await asyncio.to_thread(login, chat, pair["a"]["email"])
        tickets = [
            await asyncio.to_thread(ticket_of, chat, session["access"])
            for _ in range(SOCKETS_PER_CLIENT + 2)
        ]
        held = [await open_client(chat, ticket) for ticket in tickets[:SOCKETS_PER_CLIENT]]
        with pytest.raises(InvalidStatus) as refused:
            await open_client(chat, tickets[SOCKETS_PER_CLIENT])
        # Another client address has a budget of its own; the refused ticket was never spent.
        elsewhere = await open_client(chat, tickets[SOCKETS_PER_CLIENT], source="127.0.0.2")
        await held.pop().close()
        again = await _opened_once_counted_out(chat, tickets[-1])
        for client in (*held, elsewhere, again):
            await client.close()
        return refused.value.response

    response = asyncio.run(scenario())
    assert response.status_code == 429
    assert json.loads(response.body)["error"]["code"] == "throttled"
    assert response.headers["Retry-After"] == "1"

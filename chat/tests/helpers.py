"""Opening sockets on the real ASGI application (config.asgi) with Channels' communicator."""

import asyncio
import contextlib
import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.auth.services import ClientInfo, auth_session_start
from chat.protocol import PROTOCOL
from chat.services.sockets import ticket_issue
from config.asgi import application

RECEIVE_TIMEOUT = 3
sync = database_sync_to_async

# Every communicator a test opened, disconnected when it ends (conftest.py): the consumer then
# leaves its groups and deletes its socket row, and no task outlives the test's event loop.
_opened: list[WebsocketCommunicator] = []


def session_of(user):
    session, _pair = auth_session_start(user=user, client=ClientInfo())
    return session


def new_ticket(user, session=None) -> str:
    session = session or session_of(user)
    raw, _ticket = ticket_issue(user=user, session_id=session.pk)
    return raw


def communicator(
    *, ticket: str | None, origin: str | None = None, subprotocols=None, host=None, language=None
):
    headers = [(b"host", (host or "testserver").encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if language is not None:
        headers.append((b"accept-language", language.encode()))
    offered = subprotocols if subprotocols is not None else [PROTOCOL, f"ticket.{ticket}"]
    comm = WebsocketCommunicator(application, "/ws/chat/", headers=headers, subprotocols=offered)
    _opened.append(comm)
    return comm


async def closed_code(comm: WebsocketCommunicator, timeout: float = RECEIVE_TIMEOUT) -> int:
    """The next output must be the server closing the socket: its code."""
    output = await comm.receive_output(timeout)
    assert output["type"] == "websocket.close", output
    return output.get("code", 1000)


class Socket:
    """A connected, greeted client: `hello` holds the server's first frame."""

    def __init__(self, comm: WebsocketCommunicator, hello: dict, ignored=("presence",)):
        self.comm = comm
        self.hello = hello
        self.skipped: list[dict] = []  # frames `request` passed over, received next
        self.ignored = set(ignored)  # frame types this test does not look at

    async def _next(self, timeout: float) -> dict:
        while True:
            frame = await self.comm.receive_json_from(timeout=timeout)
            if frame["type"] not in self.ignored:
                return frame

    async def send(self, frame: dict) -> None:
        await self.comm.send_to(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_text(self, text: str) -> None:
        await self.comm.send_input({"type": "websocket.receive", "text": text})  # "" included

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict:
        if self.skipped:
            return self.skipped.pop(0)
        return await self._next(timeout)

    async def receive_type(self, kind: str, timeout: float = RECEIVE_TIMEOUT) -> dict:
        """The next frame of this type, skipping others (presence, typing...)."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == kind:
                return frame

    async def request(self, frame: dict, kind: str) -> dict:
        """Send a frame; the next frame of type `kind` or `error`, whichever comes first."""
        await self.send(frame)
        while True:
            answer = await self._next(RECEIVE_TIMEOUT)
            if answer["type"] in (kind, "error"):
                return answer
            self.skipped.append(answer)

    async def error(self, frame: dict) -> dict:
        """Send a frame that must be refused: the error frame that answers it."""
        answer = await self.request(frame, "error")
        assert answer["type"] == "error", answer
        return answer

    async def closed_code(self, timeout: float = RECEIVE_TIMEOUT) -> int:
        """Skip frames until the server closes the socket: its code."""
        while True:
            output = await self.comm.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code", 1000)

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        """No frame (but ignored ones) within `timeout`. (receive_output's own timeout would
        cancel the consumer, hence receive_nothing.)"""
        if self.skipped:
            return False
        while not await self.comm.receive_nothing(timeout=timeout):
            frame = await self.comm.receive_json_from()
            if frame["type"] not in self.ignored:
                self.skipped.append(frame)
                return False
        return True

    async def close(self) -> None:
        await self.comm.disconnect()


async def open_socket(
    user, *, session=None, origin: str | None = None, ignored=("presence",), language=None,
    live: bool = True,
) -> Socket:  # fmt: skip
    """`live`: send a first frame (a ping) so that room news flows at once, as a client does;
    without it the socket holds room news until its first frame or CHAT_RESUME_GRACE_SECONDS."""
    ticket = await sync(new_ticket)(user, session)
    comm = communicator(ticket=ticket, origin=origin, language=language)
    connected, subprotocol = await comm.connect(timeout=RECEIVE_TIMEOUT)
    assert connected and subprotocol == PROTOCOL
    hello = await comm.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert hello["type"] == "hello", hello
    socket = Socket(comm, hello, ignored)
    if live:
        assert (await socket.request({"type": "ping", "ref": "live"}, "pong"))["ref"] == "live"
    return socket


async def all_sockets_disconnect() -> None:
    """The consumers' `disconnect` runs at once; channels_redis may then take a while to cancel
    a consumer's pending receive, which is cut short after a second."""
    comms = list(_opened)
    _opened.clear()
    await asyncio.gather(*(_disconnect(comm) for comm in comms))


async def _disconnect(comm: WebsocketCommunicator) -> None:
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await comm.disconnect(timeout=1)

"""Opening sockets on the real ASGI application (config.asgi) with Channels' communicator."""

import json

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.auth.services import ClientInfo, auth_session_start
from chat.protocol import PROTOCOL
from chat.services.sockets import ticket_issue
from config.asgi import application

RECEIVE_TIMEOUT = 3


def session_of(user):
    session, _pair = auth_session_start(user=user, client=ClientInfo())
    return session


def new_ticket(user, session=None) -> str:
    session = session or session_of(user)
    raw, _ticket = ticket_issue(user=user, session_id=session.pk)
    return raw


def communicator(*, ticket: str | None, origin: str | None = None, subprotocols=None):
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    offered = subprotocols if subprotocols is not None else [PROTOCOL, f"ticket.{ticket}"]
    return WebsocketCommunicator(application, "/ws/chat/", headers=headers, subprotocols=offered)


class Socket:
    """A connected, greeted client: `hello` holds the server's first frame."""

    def __init__(self, comm: WebsocketCommunicator, hello: dict):
        self.comm = comm
        self.hello = hello

    async def send(self, frame: dict) -> None:
        await self.comm.send_to(text_data=json.dumps(frame))

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict:
        return await self.comm.receive_json_from(timeout=timeout)

    async def receive_type(self, kind: str, timeout: float = RECEIVE_TIMEOUT) -> dict:
        """The next frame of this type, skipping others (presence, typing...)."""
        while True:
            frame = await self.receive(timeout)
            if frame["type"] == kind:
                return frame

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return await self.comm.receive_nothing(timeout=timeout)

    async def close(self) -> None:
        await self.comm.disconnect()


async def open_socket(user, *, session=None, origin: str | None = None) -> Socket:
    ticket = await database_sync_to_async(new_ticket)(user, session)
    comm = communicator(ticket=ticket, origin=origin)
    connected, subprotocol = await comm.connect(timeout=RECEIVE_TIMEOUT)
    assert connected and subprotocol == PROTOCOL
    hello = await comm.receive_json_from(timeout=RECEIVE_TIMEOUT)
    assert hello["type"] == "hello", hello
    return Socket(comm, hello)

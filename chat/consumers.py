"""The chat socket (/ws/chat/), as thin as a view: parse a frame, call one service, send.

Per socket it keeps which rooms it is subscribed to and the last seq it delivered in each, so
that new messages reach the client in order with no gap and no repeat: a broadcast that
overtakes another is preceded by the missing messages, read from the database.
"""

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from chat import broadcast, protocol
from chat.delivery import RoomDelivery
from chat.dispatching import ReaderLoops
from chat.errors import (
    FramesLimited,
    FrameTooLarge,
    InvalidFrame,
    RateLimited,
    RoomNotFound,
    SessionEnded,
    TicketInvalid,
    TooManySockets,
)
from chat.limits import FrameBudget
from chat.origin import origin_allowed
from chat.services import messages as message_services
from chat.services import sockets
from core.errors import ServiceUnavailable
from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)
db = database_sync_to_async


def heartbeat_delay(soonest) -> float:
    """Seconds to the socket's next heartbeat: within CHAT_PING_SECONDS, at a random point of its
    last quarter, so that sockets opened together (a deploy, a network blip) do not keep
    checking in together, each wave of queries stalling the sends behind it; or just past
    `soonest` (a session or course access expiring), if sooner."""
    until = (soonest - timezone.now()).total_seconds() + 0.05
    pace = settings.CHAT_PING_SECONDS * secrets.SystemRandom().uniform(0.75, 1.0)
    return max(0.0, min(pace, until))


class ChatConsumer(ReaderLoops, RoomDelivery, AsyncWebsocketConsumer):
    user: Any = None  # the ticket's user, once it is redeemed
    session_id = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Frames, broadcasts and the heartbeat take turns: each reads and updates `rooms`
        # across awaits, so two of them interleaving could deliver a room twice or after leaving.
        self.turn = asyncio.Lock()
        self.language: str | None = None

    async def dispatch(self, message) -> None:
        # Not AsyncConsumer.dispatch: it hops into the database thread before every message
        # (close_old_connections), so each broadcast a socket delivers waited behind other
        # sockets' queries. Every query here goes through database_sync_to_async, which closes
        # old connections around itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        if message["type"] == broadcast.EVENT_TYPE:  # the hot path: news, nothing to word
            await handler(message)
            return
        async with self._in_language():
            await handler(message)

    @contextlib.asynccontextmanager
    async def _in_language(self):
        """Messages in the handshake's language, as LocaleMiddleware does for REST."""
        if self.language is None:
            self.language = protocol.language_of(self.scope.get("headers", []))
        with translation.override(self.language):
            yield

    # --- Opening and closing -------------------------------------------------------------------

    async def connect(self) -> None:
        self.delivery_start()
        self.typing_sent: dict[int, float] = {}
        self.frame_budget = FrameBudget()
        self.resumed: set[int] = set()  # rooms caught up by `resume`: current from then on
        self.refusals = 0
        self.heartbeat: asyncio.Task | None = None
        offered = self.scope.get("subprotocols") or []
        if protocol.PROTOCOL not in offered:
            await self.close()  # before accepting: the handshake is refused (403)
            return
        await self.accept(subprotocol=protocol.PROTOCOL)
        if not origin_allowed(self.scope.get("headers", [])):
            await self.close(code=protocol.CLOSE_FORBIDDEN)
            return
        try:
            identity = await db(sockets.ticket_redeem)(protocol.ticket_from(offered))
            await db(sockets.connection_open)(
                user=identity.user,
                session_id=identity.session.pk,
                channel_name=self.channel_name,
            )
        except TicketInvalid as error:
            await self._refuse(error, protocol.CLOSE_SESSION_ENDED)
            return
        except TooManySockets as error:
            await self._refuse(error, protocol.CLOSE_RATE_LIMITED)
            return
        self.user, self.session_id = identity.user, identity.session.pk
        self.session_expires_at = identity.session.expires_at
        for group in (broadcast.user_group(self.user.pk), broadcast.session_group(self.session_id)):
            await self.channel_layer.group_add(group, self.channel_name)
        try:  # a logout between the ticket's check and joining the session's group
            await db(sockets.session_check)(session_id=self.session_id, user_id=self.user.pk)
        except SessionEnded as error:
            await self._refuse(error, protocol.CLOSE_SESSION_ENDED)
            return
        await self.rooms_sync(announce=False)
        online = await db(sockets.online_friend_ids)(self.user.pk)
        await self.send_frame(protocol.hello_frame(self.user, self.rooms, online))
        self.hold_until_first_frame()
        self.heartbeat = asyncio.create_task(self._heartbeat())

    async def disconnect(self, code) -> None:
        for task in (self.heartbeat, self.hold_timer):
            if task is not None:
                task.cancel()
        if self.user is None:
            return
        groups = [broadcast.user_group(self.user.pk), broadcast.session_group(self.session_id)]
        groups += [broadcast.room_group(room) for room in self.rooms]
        for group in groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        try:
            await db(sockets.connection_close)(user_id=self.user.pk, channel_name=self.channel_name)
        except Exception:
            logger.warning("chat: could not record a closed socket", exc_info=True)

    async def _refuse(self, error: ApplicationError, close_code: int) -> None:
        await self.send_error(error)
        await self.close(code=close_code)

    async def _heartbeat(self) -> None:
        """Every ping interval (or at the next course access expiry, if sooner): is the session
        still live (revocations also arrive at once, chat_session_ended), mark the socket as seen,
        drop rooms whose access ran out and catch up on news the layer lost."""
        while True:
            soonest = min([self.session_expires_at, *self.access_ends.values()])
            await asyncio.sleep(heartbeat_delay(soonest))
            async with self.turn, self._in_language():
                try:
                    await db(sockets.heartbeat_record)(
                        session_id=self.session_id,
                        user_id=self.user.pk,
                        channel_name=self.channel_name,
                    )
                    if any(moment <= timezone.now() for moment in self.access_ends.values()):
                        await self.rooms_sync(announce=True)
                    await self.rooms_recover()
                except SessionEnded as error:
                    await self._refuse(error, protocol.CLOSE_SESSION_ENDED)
                    return
                except Exception:
                    logger.warning("chat: heartbeat failed", exc_info=True)

    # --- From the client -----------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if self.user is None:
            return
        ref = None
        try:
            wait = self.frame_budget.take(time.monotonic())  # every frame, even one not parsed
            frame = protocol.frame_parse(text_data)
            ref = protocol.ref_of(frame)
            if wait:
                raise FramesLimited.waiting(wait)
            handler = getattr(self, "on_" + frame["type"].replace(".", "_"))
            await handler(frame, ref)
            self.refusals = 0
        except ApplicationError as error:
            await self.send_error(error, ref=ref)
            if isinstance(error, RateLimited):
                self.refusals += 1
                if self.refusals >= settings.CHAT_REFUSALS_BEFORE_CLOSE:
                    await self.close(code=protocol.CLOSE_RATE_LIMITED)
                    return
            elif isinstance(error, FrameTooLarge):
                await self.close(code=protocol.CLOSE_TOO_LARGE)
                return
        except DatabaseError:
            logger.warning("chat: database unavailable", exc_info=True)
            await self.send_error(ServiceUnavailable(), ref=ref)
        # The client's first frame, whatever it was, ends the hold on room news (chat.delivery).
        await self.held_release()

    async def on_message_send(self, frame: dict, ref) -> None:
        room = protocol.integer(frame, "room")
        reply_to = protocol.integer(frame, "reply_to", required=False)
        message, _created = await db(message_services.message_send)(
            user=self.user, room_id=room, client_msg_id=frame.get("client_msg_id"),
            body=frame.get("body"), reply_to=reply_to,
        )  # fmt: skip
        await self.send_frame({
            "type": "message.ack", "ref": ref, "client_msg_id": message.client_msg_id,
            "id": message.pk, "room": message.room_id, "seq": message.seq,
        })  # fmt: skip

    async def on_message_edit(self, frame: dict, ref) -> None:
        message_id = protocol.integer(frame, "message")
        await db(message_services.message_edit)(
            user=self.user, message_id=message_id, body=frame.get("body")
        )

    async def on_message_delete(self, frame: dict, ref) -> None:
        message_id = protocol.integer(frame, "message")
        await db(message_services.message_delete)(user=self.user, message_id=message_id)

    async def on_read(self, frame: dict, ref) -> None:
        room, seq = protocol.integer(frame, "room"), protocol.integer(frame, "seq")
        await db(message_services.read_marker_set)(user=self.user, room_id=room, seq=seq)

    async def on_typing(self, frame: dict, ref) -> None:
        room = protocol.integer(frame, "room")
        if room not in self.rooms:
            raise RoomNotFound()
        now = time.monotonic()
        if now - self.typing_sent.get(room, -1e9) < settings.CHAT_TYPING_INTERVAL_SECONDS:
            return
        self.typing_sent[room] = now
        await db(message_services.typing_announce)(user=self.user, room_id=room)

    async def on_resume(self, frame: dict, ref) -> None:
        """{rooms: {id: last seq the client has}}: what it missed, from the database. Once per
        room and socket: the socket delivers the room's news in order from then on, so a second
        resume could only replay what it sent (up to CHAT_RESUME_LIMIT messages a frame)."""
        wanted = frame.get("rooms")
        if not isinstance(wanted, dict):
            raise InvalidFrame(fields={"rooms": [_("An object: room id -> seq.")]})
        for key, seen in wanted.items():
            room = protocol.room_key(key)
            if room not in self.rooms:
                await self.send_error(RoomNotFound(), ref=ref)
                continue
            if type(seen) is not int or seen < 0:
                await self.send_error(
                    InvalidFrame(fields={key: [_("A non-negative integer.")]}), ref=ref
                )
                continue
            if room in self.resumed:
                refusal = _("Already resumed on this socket; older history is read over REST.")
                await self.send_error(InvalidFrame(fields={key: [refusal]}), ref=ref)
                continue
            self.resumed.add(room)
            await self.catch_up(room, seen, up_to=None)
        await self.send_frame({"type": "resume.done", "ref": ref})

    async def on_ping(self, frame: dict, ref) -> None:
        await self.send_frame({"type": "pong", "ref": ref})

    # --- From the channel layer ----------------------------------------------------------------

    async def chat_access(self, event: dict) -> None:
        await self.rooms_sync(announce=True)

    async def chat_session_ended(self, event: dict) -> None:
        await self._refuse(SessionEnded(), protocol.CLOSE_SESSION_ENDED)

    # --- Helpers -------------------------------------------------------------------------------

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=protocol.frame_dump(frame))

    async def send_broadcast_frame(self, frame: dict) -> None:
        await self.send(text_data=protocol.shared_frame_dump(frame))

    async def send_error(self, error: ApplicationError, *, ref=None) -> None:
        await self.send_frame(protocol.error_frame(error, ref=ref))

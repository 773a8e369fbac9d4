"""The chat socket (/ws/chat/), as thin as a view: parse a frame, call one service, send.

Per socket it keeps which rooms it is subscribed to and the last seq it delivered in each, so
that new messages reach the client in order with no gap and no repeat: a broadcast that
overtakes another is preceded by the missing messages, read from the database.
"""

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from chat import broadcast, protocol
from chat.errors import (
    InvalidFrame,
    RateLimited,
    RoomNotFound,
    SessionEnded,
    TicketInvalid,
    TooManySockets,
)
from chat.origin import origin_allowed
from chat.payloads import message_data, user_data
from chat.selectors.rooms import messages_after, socket_rooms
from chat.services import messages as message_services
from chat.services import sockets
from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)
db = database_sync_to_async


class ChatConsumer(AsyncWebsocketConsumer):
    user = None
    session_id = None

    # --- Opening and closing -------------------------------------------------------------------

    async def connect(self) -> None:
        self.rooms: dict[int, int] = {}  # room id -> last seq delivered
        self.access_ends: dict[int, object] = {}
        self.typing_sent: dict[int, float] = {}
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
        await self._rooms_sync(announce=False)
        online = await db(sockets.online_friend_ids)(self.user.pk)
        await self.send_frame(self._hello(online))
        self.heartbeat = asyncio.create_task(self._heartbeat())

    def _hello(self, online_friends: list[int]) -> dict:
        return {
            "type": "hello",
            "protocol": protocol.PROTOCOL,
            "user": user_data(self.user),
            "rooms": [{"id": room, "last_seq": seq} for room, seq in sorted(self.rooms.items())],
            "online_friends": online_friends,
            "ping_interval": settings.CHAT_PING_SECONDS,
            "limits": {
                "max_frame_bytes": settings.CHAT_MAX_FRAME_BYTES,
                "messages_per_second": settings.CHAT_MESSAGE_RATE,
                "message_burst": settings.CHAT_MESSAGE_BURST,
                "typing_interval": settings.CHAT_TYPING_INTERVAL_SECONDS,
                "resume_limit": settings.CHAT_RESUME_LIMIT,
            },
        }

    async def disconnect(self, code) -> None:
        if self.heartbeat is not None:
            self.heartbeat.cancel()
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
        and drop rooms whose access ran out."""
        while True:
            soonest = min([self.session_expires_at, *self.access_ends.values()])
            until = (soonest - timezone.now()).total_seconds()
            delay = max(0.0, min(settings.CHAT_PING_SECONDS, until + 0.05))
            await asyncio.sleep(delay)
            try:
                await db(sockets.session_check)(session_id=self.session_id, user_id=self.user.pk)
                await db(sockets.connection_seen)(channel_name=self.channel_name)
                if any(moment <= timezone.now() for moment in self.access_ends.values()):
                    await self._rooms_sync(announce=True)
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
            frame = protocol.frame_parse(text_data)
            ref = frame.get("ref") if isinstance(frame.get("ref"), str | int) else None
            handler = getattr(self, "on_" + frame["type"].replace(".", "_"))
            await handler(frame, ref)
            self.refusals = 0
        except ApplicationError as error:
            await self.send_error(error, ref=ref)
            if isinstance(error, RateLimited):
                self.refusals += 1
                if self.refusals >= settings.CHAT_REFUSALS_BEFORE_CLOSE:
                    await self.close(code=protocol.CLOSE_RATE_LIMITED)
            elif error.code == "frame_too_large":
                await self.close(code=protocol.CLOSE_TOO_LARGE)

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
        await self.channel_layer.group_send(
            broadcast.room_group(room),
            {"type": broadcast.EVENT_TYPE, "room": room, "seq": None,
             "frame": {"type": "typing", "room": room, "user": self.user.pk}},
        )  # fmt: skip

    async def on_resume(self, frame: dict, ref) -> None:
        """{rooms: {id: last seq the client has}}: what it missed, from the database."""
        wanted = frame.get("rooms")
        if not isinstance(wanted, dict):
            raise InvalidFrame(fields={"rooms": ["An object: room id -> seq."]})
        for key, seen in wanted.items():
            room = int(key) if isinstance(key, str) and key.isdigit() else None
            if room not in self.rooms or type(seen) is not int or seen < 0:
                await self.send_error(RoomNotFound(), ref=ref)
                continue
            await self._catch_up(room, seen, up_to=None)
        await self.send_frame({"type": "resume.done", "ref": ref})

    async def on_ping(self, frame: dict, ref) -> None:
        await self.send_frame({"type": "pong", "ref": ref})

    # --- From the channel layer ----------------------------------------------------------------

    async def chat_event(self, event: dict) -> None:
        room = event.get("room")
        if room is not None and room not in self.rooms:
            return
        frame = event["frame"]
        if frame.get("type") == "typing" and frame.get("user") == self.user.pk:
            return
        seq = event.get("seq")
        if seq is not None:
            delivered = self.rooms[room]
            if seq <= delivered:
                return  # already sent (a resume, or a gap filled from the database)
            if seq > delivered + 1:
                await self._catch_up(room, delivered, up_to=seq - 1)
            self.rooms[room] = seq
        await self.send_frame(frame)

    async def chat_access(self, event: dict) -> None:
        await self._rooms_sync(announce=True)

    async def chat_session_ended(self, event: dict) -> None:
        await self._refuse(SessionEnded(), protocol.CLOSE_SESSION_ENDED)

    # --- Helpers -------------------------------------------------------------------------------

    async def _catch_up(self, room: int, after_seq: int, *, up_to: int | None) -> None:
        """Send the room's messages after `after_seq` (to `up_to`); beyond CHAT_RESUME_LIMIT the
        client is told to reload the room instead (resync_required)."""
        limit = settings.CHAT_RESUME_LIMIT
        missed = await db(messages_after)(
            room_id=room, after_seq=after_seq, up_to=up_to, limit=limit + 1
        )
        if len(missed) > limit:
            await self.send_frame({"type": "resync_required", "room": room})
            self.rooms[room] = max(self.rooms[room], up_to or missed[-1].seq)
            return
        for message in missed:
            await self.send_frame({"type": "message.new", "message": message_data(message)})
        if missed:
            self.rooms[room] = max(self.rooms[room], missed[-1].seq)

    async def _rooms_sync(self, *, announce: bool) -> None:
        """Subscribe to the rooms the user may use now, and leave the others."""
        now = await db(socket_rooms)(self.user)
        for room in set(self.rooms) - set(now):
            await self.channel_layer.group_discard(broadcast.room_group(room), self.channel_name)
            del self.rooms[room]
            if announce:
                await self.send_frame({"type": "membership.removed", "room": room})
        for room, state in now.items():
            if room not in self.rooms:
                await self.channel_layer.group_add(broadcast.room_group(room), self.channel_name)
                self.rooms[room] = state.last_seq
                if announce:
                    await self.send_frame(
                        {"type": "membership.added", "room": room, "last_seq": state.last_seq}
                    )
        self.access_ends = {
            room: state.access_ends_at for room, state in now.items() if state.access_ends_at
        }

    async def send_frame(self, frame: dict) -> None:
        await self.send(text_data=protocol.frame_dump(frame))

    async def send_error(self, error: ApplicationError, *, ref=None) -> None:
        frame = {"type": "error", "code": error.code, "message": str(error.message)}
        if error.fields:
            frame["fields"] = {key: [str(text) for text in texts]
                               for key, texts in error.fields.items()}  # fmt: skip
        if "Retry-After" in error.headers:
            frame["retry_after"] = int(error.headers["Retry-After"])
        if ref is not None:
            frame["ref"] = ref
        await self.send_frame(frame)

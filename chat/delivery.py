"""How a socket delivers its rooms' news: in order, with no gap and no repeat, per room.

The socket remembers the last seq it delivered in each room it is subscribed to. A broadcast
that skips ahead (another process's commit overtook it, or the layer lost one while Redis
restarted) is preceded by the missing messages, read from PostgreSQL; a seq already delivered
is dropped. Until the client's first frame (a reconnecting client sends `resume` first), or
CHAT_RESUME_GRACE_SECONDS after `hello`, room news is held, so that what `resume` fills from
the database comes before it and nothing arrives twice.
"""

import asyncio
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from chat import broadcast
from chat.payloads import message_data
from chat.selectors.rooms import messages_after, room_last_seq, rooms_last_seqs, socket_rooms

db = database_sync_to_async


class RoomDelivery:
    # Provided by the consumer.
    user: Any
    channel_layer: Any
    channel_name: str
    turn: asyncio.Lock

    async def send_frame(self, frame: dict) -> None:
        raise NotImplementedError

    async def send_broadcast_frame(self, frame: dict) -> None:
        raise NotImplementedError

    def delivery_start(self) -> None:
        self.rooms: dict[int, int] = {}  # room id -> last seq delivered
        self.access_ends: dict[int, datetime] = {}
        self.held: list[dict] | None = []  # room news before the client's first frame
        self.hold_timer: asyncio.Task | None = None

    def hold_until_first_frame(self) -> None:
        self.hold_timer = asyncio.create_task(self._release_later())

    async def _release_later(self) -> None:
        await asyncio.sleep(settings.CHAT_RESUME_GRACE_SECONDS)
        async with self.turn:
            await self.held_release()

    async def held_release(self) -> None:
        if self.held is None:
            return
        held, self.held = self.held, None
        if self.hold_timer is not None and self.hold_timer is not asyncio.current_task():
            self.hold_timer.cancel()
        for event in held:
            await self.room_event_deliver(event)

    async def chat_event(self, event: dict) -> None:
        if event.get("room") is None:  # news for the user (friends, presence)
            await self.send_broadcast_frame(event["frame"])
        elif self.held is not None:
            self.held.append(event)
        else:
            await self.room_event_deliver(event)

    async def room_event_deliver(self, event: dict) -> None:
        frame, room = event["frame"], event["room"]
        if room not in self.rooms:
            return
        if frame.get("type") == "typing" and frame.get("user") == self.user.pk:
            return
        seq = event.get("seq")
        if seq is not None:
            delivered = self.rooms[room]
            if seq <= delivered:
                return  # already sent (a resume, or a gap filled from the database)
            if seq > delivered + 1:
                await self.catch_up(room, delivered, up_to=seq - 1)
            self.rooms[room] = seq
        elif isinstance(frame.get("message"), dict):
            # An edit or deletion that overtook the message itself: the message first.
            about = frame["message"]["seq"]
            if about > self.rooms[room]:
                await self.catch_up(room, self.rooms[room], up_to=about)
        await self.send_broadcast_frame(frame)

    async def catch_up(self, room: int, after_seq: int, *, up_to: int | None) -> None:
        """Send the room's messages after `after_seq` (to `up_to`); beyond CHAT_RESUME_LIMIT the
        client is told to reload the room instead (resync_required)."""
        limit = settings.CHAT_RESUME_LIMIT
        missed = await db(messages_after)(
            room_id=room, after_seq=after_seq, up_to=up_to, limit=limit + 1
        )
        if len(missed) > limit:
            await self.send_frame({"type": "resync_required", "room": room})
            last = up_to if up_to is not None else await db(room_last_seq)(room_id=room)
            self.rooms[room] = max(self.rooms[room], last)
            return
        for message in missed:
            await self.send_frame({"type": "message.new", "message": message_data(message)})
        if missed:
            self.rooms[room] = max(self.rooms[room], missed[-1].seq)

    async def rooms_recover(self) -> None:
        """The heartbeat's check, one query: join the rooms' groups again (a layer that restarted
        empty forgot them) and catch up where the last message is past what was delivered (news
        the layer lost)."""
        last_seqs = await db(rooms_last_seqs)(room_ids=list(self.rooms))
        for room, last_seq in last_seqs.items():
            await self.channel_layer.group_add(broadcast.room_group(room), self.channel_name)
            if room in self.rooms and last_seq > self.rooms[room] and self.held is None:
                await self.catch_up(room, self.rooms[room], up_to=last_seq)

    async def rooms_sync(self, *, announce: bool) -> None:
        """Subscribe to the rooms the user may use now and leave the others (on connect, when
        access changed, and when a course grant expires)."""
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

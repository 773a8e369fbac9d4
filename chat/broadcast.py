"""News for open sockets, sent through the channel layer once the transaction that made it has
committed. The database already holds what the news is about: a socket that misses it (Redis
restarting, a socket reconnecting) catches up from the database (`resume`)."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from core.pause import Pause

logger = logging.getLogger(__name__)

# The consumer's handler for every broadcast: it forwards `frame` after its own checks.
EVENT_TYPE = "chat.event"


def room_group(room_id: int) -> str:
    return f"chat.room.{room_id}"


def user_group(user_id: int) -> str:
    return f"chat.user.{user_id}"


def session_group(session_id) -> str:
    return f"chat.session.{session_id}"


# A broadcast from a request (a logout, a REST send) waits at most this long for Redis; after a
# failure this process stops trying for a while, so a frozen Redis costs a request one timeout,
# not one per broadcast (sockets catch up from PostgreSQL at their next heartbeat).
SEND_TIMEOUT_SECONDS = 1.0
PAUSE_SECONDS = 5.0


layer_state = Pause()


def send_now(group: str, message: dict) -> None:
    """Best effort: the layer down loses the news, never the data."""
    layer = get_channel_layer()
    if layer is None or layer_state.active():
        return
    try:
        async_to_sync(_send_bounded)(layer, group, message)
    except Exception:
        layer_state.start(PAUSE_SECONDS)
        logger.warning("chat: could not broadcast to %s", group, exc_info=True)


async def _send_bounded(layer, group: str, message: dict) -> None:
    await asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT_SECONDS)


def send_on_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: send_now(group, message))


def room_frame_on_commit(room_id: int, frame: dict, *, seq: int | None = None) -> None:
    """A frame for every socket subscribed to the room; `seq` marks a new message, which sockets
    deliver in order (fetching any gap from the database)."""
    send_on_commit(room_group(room_id), {"type": EVENT_TYPE, "frame": frame, "room": room_id,
                                         "seq": seq})  # fmt: skip


def user_frame_on_commit(user_id: int, frame: dict) -> None:
    send_on_commit(user_group(user_id), {"type": EVENT_TYPE, "frame": frame})


ACCESS_CHANGED = {"type": "chat.access"}


def access_changed_now(groups) -> None:
    """The sockets in these groups re-check which rooms they may be in (a course bought, refunded,
    a member added or removed) and (un)subscribe accordingly."""
    for group in set(groups):
        send_now(group, ACCESS_CHANGED)


def access_changed_on_commit(user_ids) -> None:
    groups = {user_group(user_id) for user_id in user_ids}
    transaction.on_commit(lambda: access_changed_now(groups))


def sessions_ended(session_ids) -> None:
    """Called after the revocation committed (accounts announces it): the sessions' sockets close
    with 4001 on every instance."""
    for session_id in session_ids:
        send_now(session_group(session_id), {"type": "chat.session_ended"})

"""Sending, editing and deleting messages, and read markers. Each commits first and broadcasts
after (chat.broadcast); a message's `seq` comes from its room's row, locked for the send, so the
sequence of a room has no gap and no two messages share a number."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat import broadcast
from chat.access import is_moderator, room_and_membership_for, room_for, unique_or_none
from chat.errors import (
    ClientMsgIdReused,
    InvalidFrame,
    MessageDeleted,
    MessageNotFound,
    Muted,
    NotFriends,
    NotMessageAuthor,
    RateLimited,
    ReplyNotInRoom,
    UserBlocked,
)
from chat.limits import message_allowance
from chat.models import (
    BODY_MAX_LENGTH,
    CLIENT_MSG_ID_MAX_LENGTH,
    Membership,
    Message,
    Room,
    RoomKind,
)
from chat.payloads import message_data
from chat.selectors.friends import are_friends, blocked_between
from core.exceptions import ApplicationError

CLIENT_MSG_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{CLIENT_MSG_ID_MAX_LENGTH}}}")


def body_clean(body) -> str:
    """1 to BODY_MAX_LENGTH characters, not only blanks; text PostgreSQL can store."""
    if not isinstance(body, str):
        raise InvalidFrame(fields={"body": [_("Must be a string.")]})
    if not body.strip():
        raise InvalidFrame(fields={"body": [_("The message is empty.")]})
    if len(body) > BODY_MAX_LENGTH:
        raise InvalidFrame(
            fields={"body": [_("At most %(limit)s characters.") % {"limit": BODY_MAX_LENGTH}]}
        )
    if "\x00" in body:
        raise InvalidFrame(fields={"body": [_("NUL characters are not allowed.")]})
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. "\ud800" in JSON
        raise InvalidFrame(fields={"body": [_("Not valid Unicode text.")]}) from None
    return body


def client_msg_id_clean(value) -> str:
    if not isinstance(value, str) or not CLIENT_MSG_ID.fullmatch(value):
        allowed = _("1 to %(limit)s characters of A-Z a-z 0-9 . _ : -")
        raise InvalidFrame(
            fields={"client_msg_id": [allowed % {"limit": CLIENT_MSG_ID_MAX_LENGTH}]}
        )
    return value


def _direct_partner_check(*, room: Room, user) -> None:
    other_id = next(
        int(part) for part in (room.direct_key or "").split(":") if int(part) != user.pk
    )
    if blocked_between(user.pk, other_id):
        raise UserBlocked()
    if not are_friends(user.pk, other_id):
        raise NotFriends()


_NOT_LOADED = object()


def _may_post(*, room: Room, user, membership=_NOT_LOADED) -> None:
    """Muted, NotFriends or UserBlocked; `membership`: the user's row if already loaded."""
    if room.kind == RoomKind.DIRECT:
        _direct_partner_check(room=room, user=user)
    if membership is _NOT_LOADED:
        membership = Membership.objects.filter(room=room, user=user).first()
    if (
        membership is not None
        and membership.muted_until
        and membership.muted_until > timezone.now()
    ):
        raise Muted()


def _allowance_take(user) -> None:
    wait = message_allowance(user.pk)
    if wait > 0:
        raise RateLimited.waiting(wait)


def _replayed(*, user, client_msg_id: str, room_id: int, body: str) -> Message | None:
    message = unique_or_none(Message.objects.filter(sender=user, client_msg_id=client_msg_id))
    if message is None:
        return None
    message.sender = user  # it is theirs: no join for the first send's check
    # The same send again: same room, and the same body unless the message changed since.
    unchanged = message.edited_at is None and not message.is_deleted
    if message.room_id != room_id or (unchanged and message.body != body):
        raise ClientMsgIdReused()
    return message


def message_send(
    *, user, room_id: int, client_msg_id: str, body: str, reply_to: int | None = None
) -> tuple[Message, bool]:
    """The message and True, or the message this client_msg_id already sent and False (a retry
    never duplicates). Raises the room's access errors, Muted, NotFriends, UserBlocked,
    ReplyNotInRoom, RateLimited, ClientMsgIdReused."""
    client_msg_id = client_msg_id_clean(client_msg_id)
    body = body_clean(body)
    replayed = _replayed(user=user, client_msg_id=client_msg_id, room_id=room_id, body=body)
    if replayed is not None:
        room_for(user=user, room_id=room_id)  # access may have ended since
        return replayed, False
    _allowance_take(user)
    try:
        with transaction.atomic():
            room, membership = room_and_membership_for(user=user, room_id=room_id, for_update=True)
            _may_post(room=room, user=user, membership=membership)
            if reply_to is not None and not Message.objects.filter(pk=reply_to, room=room).exists():
                raise ReplyNotInRoom()
            seq = room.last_seq + 1
            Room.objects.filter(pk=room.pk).update(last_seq=seq, updated_at=timezone.now())
            message = Message.objects.create(
                room=room, seq=seq, sender=user, client_msg_id=client_msg_id, body=body,
                reply_to_id=reply_to,
            )  # fmt: skip
            # One's own message is read; `seq` is the room's newest, so no marker is past it.
            if membership is None:  # a course room's learner, first time
                membership, _created = Membership.objects.get_or_create(room=room, user=user)
            Membership.objects.filter(pk=membership.pk).update(last_read_seq=seq)
            broadcast.room_frame_on_commit(
                room.pk, {"type": "message.new", "message": message_data(message)}, seq=seq
            )
    except IntegrityError:
        # The same client_msg_id sent twice at once: the other send won; this is its retry.
        replayed = _replayed(user=user, client_msg_id=client_msg_id, room_id=room_id, body=body)
        if replayed is None:
            raise
        return replayed, False
    return message, True


def message_for(*, user, message_id: int, for_update: bool = True) -> Message:
    """The message, in a room `user` may use now (else MessageNotFound)."""
    messages = Message.objects.select_related("sender", "room")
    if for_update:
        messages = messages.select_for_update(of=("self",))
    message = messages.filter(pk=message_id).first()
    if message is None:
        raise MessageNotFound()
    try:
        room_for(user=user, room_id=message.room_id)
    except ApplicationError as exc:
        raise MessageNotFound() from exc
    return message


@transaction.atomic
def message_edit(*, user, message_id: int, body: str) -> Message:
    """The author changes the text, as long as they could still send it (not blocked, still
    friends in a direct room, not muted); edits count against the message rate."""
    body = body_clean(body)
    message = message_for(user=user, message_id=message_id)
    if message.sender_id != user.pk:
        raise NotMessageAuthor()
    if message.is_deleted:
        raise MessageDeleted()
    if message.body == body:
        return message
    _may_post(room=message.room, user=user)
    _allowance_take(user)
    message.body = body
    message.edited_at = timezone.now()
    message.save(update_fields=("body", "edited_at"))
    broadcast.room_frame_on_commit(
        message.room_id, {"type": "message.updated", "message": message_data(message)}
    )
    return message


@transaction.atomic
def message_delete(*, user, message_id: int) -> Message:
    """Its author, or a moderator of the room: the body goes, a tombstone keeps the seq.
    Deletions count against the message rate (each is news to the whole room); deleting a
    deleted message again changes nothing and counts for nothing."""
    message = message_for(user=user, message_id=message_id)
    if message.sender_id != user.pk and not is_moderator(user=user, room=message.room):
        raise NotMessageAuthor()
    if not message.is_deleted:
        _allowance_take(user)
        message_tombstone(message)
    return message


def message_tombstone(message: Message) -> None:
    """Inside a transaction; also the admin's moderation action."""
    message.body = ""
    message.deleted_at = timezone.now()
    message.save(update_fields=("body", "deleted_at"))
    broadcast.room_frame_on_commit(
        message.room_id,
        {"type": "message.deleted", "message": message_data(message)},
    )


def _read_marker_advance(*, room: Room, user, seq: int) -> tuple[int, bool]:
    """The marker only moves forward (a row is made for a course room's learner on first use):
    the marker now, and whether it moved."""
    membership, _created = Membership.objects.get_or_create(room=room, user=user)
    moved = Membership.objects.filter(pk=membership.pk, last_read_seq__lt=seq).update(
        last_read_seq=seq
    )
    return max(membership.last_read_seq, seq), bool(moved)


@transaction.atomic
def read_marker_set(*, user, room_id: int, seq) -> int:
    """The user has read up to `seq` in the room (capped at its last message); the new marker.
    Their other sockets and the room learn of it when it moved (a repeated `read` is silent)."""
    if type(seq) is not int or seq < 0:
        raise InvalidFrame(fields={"seq": [_("A non-negative integer.")]})
    room = room_for(user=user, room_id=room_id)
    marker, moved = _read_marker_advance(room=room, user=user, seq=min(seq, room.last_seq))
    if moved:
        broadcast.room_frame_on_commit(
            room.pk, {"type": "read.updated", "room": room.pk, "user": user.pk, "seq": marker}
        )
    return marker


def typing_announce(*, user, room_id: int) -> None:
    """`user` is typing in the room: its sockets hear of it if the user could post there now."""
    room = room_for(user=user, room_id=room_id)
    _may_post(room=room, user=user)
    frame = {"type": "typing", "room": room.pk, "user": user.pk}
    broadcast.send_now(
        broadcast.room_group(room.pk),
        {"type": broadcast.EVENT_TYPE, "frame": frame, "room": room.pk, "seq": None},
    )

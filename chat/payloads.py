"""What a message, a member and a user look like on the wire: the same dicts over REST and the
socket (chat.serializers describes them for the schema; a test holds the two together)."""

from rest_framework import serializers

from chat.models import Message

# As every other endpoint renders times (REST framework's format, in the current time zone).
_datetime = serializers.DateTimeField()


def user_data(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.name}


def message_data(message: Message) -> dict:
    """`message.sender` should be loaded (select_related) by the caller."""
    return {
        "id": message.pk,
        "room": message.room_id,
        "seq": message.seq,
        "sender": user_data(message.sender),
        "client_msg_id": message.client_msg_id,
        "body": message.body,
        "reply_to": message.reply_to_id,
        "created_at": _iso(message.created_at),
        "edited_at": _iso(message.edited_at),
        "deleted": message.deleted_at is not None,
    }


def _iso(moment) -> str | None:
    return None if moment is None else _datetime.to_representation(moment)

"""What the chat endpoints share: path parameters, id fields, the message body's rules, and how a
room is rendered for its caller."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from chat.models import BODY_MAX_LENGTH
from chat.selectors.rooms import last_messages, room_detail
from chat.serializers import RoomSerializer
from core.serializers import MAX_ID, StrictCharField

ROOM_ID = OpenApiParameter("room_id", int, OpenApiParameter.PATH)
MESSAGE_ID = OpenApiParameter("message_id", int, OpenApiParameter.PATH)
USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)
REQUEST_ID = OpenApiParameter("request_id", int, OpenApiParameter.PATH)


def id_field(**kwargs) -> serializers.IntegerField:
    """A row id: a whole number that fits a bigint (7.5, true, "abc", 2**63 are refused)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def seq_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_ID, **kwargs)


class BodyField(StrictCharField):
    """A message body as sent (not trimmed): 1 to BODY_MAX_LENGTH characters, not only blanks;
    NUL and lone surrogates are refused by CharField's own validators."""

    default_error_messages = {"only_blanks": _("The message is empty.")}

    def __init__(self, **kwargs):
        super().__init__(max_length=BODY_MAX_LENGTH, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not value.strip():
            self.fail("only_blanks")
        return value


class UserInputSerializer(serializers.Serializer):
    user = id_field()


def rooms_data(rooms, *, user) -> list[dict]:
    """Rooms of `room_list(user)` as RoomSerializer renders them (one query more)."""
    context = {"user": user, "last_messages": last_messages(rooms)}
    return RoomSerializer(rooms, many=True, context=context).data


def room_data(room_id: int, *, user) -> dict:
    """One room of the caller's (RoomNotFound, NotEntitled)."""
    return rooms_data([room_detail(user=user, room_id=room_id)], user=user)[0]

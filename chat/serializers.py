"""Output shapes of the chat endpoints. Messages and users are chat.payloads' dicts (the same over
REST and the socket): their serializers only describe them for the schema, and a test holds the
fields and the dicts' keys together. The other shapes are rendered here, written out."""

from datetime import datetime

from rest_framework import serializers

from chat.models import (
    FriendRequestStatus,
    MemberRole,
    Message,
    ReportReason,
    ReportStatus,
    Room,
    RoomKind,
)
from chat.payloads import message_data, user_data

_datetime = serializers.DateTimeField()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else _datetime.to_representation(moment)


class ChatUserSerializer(serializers.Serializer):
    """chat.payloads.user_data."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField(allow_blank=True)


class MessageSerializer(serializers.Serializer):
    """chat.payloads.message_data: also the `message` of the socket's message.* frames."""

    id = serializers.IntegerField()
    room = serializers.IntegerField()
    seq = serializers.IntegerField(help_text="1, 2, 3... in the room, without gaps.")
    sender = ChatUserSerializer(allow_null=True, help_text="null once the account is deleted.")
    client_msg_id = serializers.CharField(help_text="The sender's own id for the send.")
    body = serializers.CharField(allow_blank=True, help_text='"" once deleted.')
    reply_to = serializers.IntegerField(allow_null=True, help_text="A message of the same room.")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted = serializers.BooleanField()

    def to_representation(self, message: Message) -> dict:
        return message_data(message)


class RoomSerializer(serializers.Serializer):
    """A room as the caller sees it. Context: `user`, and `last_messages` {room id: Message}."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RoomKind.choices)
    title = serializers.CharField(
        allow_blank=True, help_text="Direct rooms: the other member's name (else username)."
    )
    other_user = ChatUserSerializer(allow_null=True, help_text="Direct rooms: the other member.")
    course = serializers.IntegerField(allow_null=True, help_text="Course rooms: the course.")
    last_seq = serializers.IntegerField(help_text="The seq of the room's latest message (0: none).")
    last_read_seq = serializers.IntegerField()
    unread_count = serializers.IntegerField()
    last_message = MessageSerializer(allow_null=True)
    role = serializers.ChoiceField(
        choices=MemberRole.choices,
        help_text="The caller's; in course rooms the tutor and staff moderate.",
    )
    muted_until = serializers.DateTimeField(
        allow_null=True, help_text="The caller may not post until then."
    )

    def to_representation(self, room: Room) -> dict:
        user = self.context["user"]
        other = None
        if room.kind == RoomKind.DIRECT:
            other = next((m.user for m in room.direct_members if m.user_id != user.pk), None)
        last_message = self.context["last_messages"].get(room.pk)
        return {
            "id": room.pk,
            "kind": room.kind,
            "title": (other.name or other.username) if other is not None else room.title,
            "other_user": user_data(other),
            "course": room.course_id,
            "last_seq": room.last_seq,
            "last_read_seq": room.last_read_seq,
            "unread_count": room.unread_count,
            "last_message": message_data(last_message) if last_message is not None else None,
            "role": _role(room, user),
            "muted_until": _iso(room.my_muted_until),
        }


def _role(room: Room, user) -> str:
    if room.kind == RoomKind.COURSE:
        moderates = user.is_staff or room.course.tutor_id == user.pk
        return MemberRole.MODERATOR.value if moderates else MemberRole.MEMBER.value
    return room.my_role or MemberRole.MEMBER.value


class MemberSerializer(serializers.Serializer):
    """A user of a room with their role there (members_of's annotations, or a Membership)."""

    user = ChatUserSerializer()
    role = serializers.ChoiceField(choices=MemberRole.choices)
    muted_until = serializers.DateTimeField(allow_null=True)

    def to_representation(self, member) -> dict:
        if hasattr(member, "member_role"):  # a user, from chat.selectors.members
            return {
                "user": user_data(member),
                "role": member.member_role,
                "muted_until": _iso(member.muted_until),
            }
        return {  # a Membership
            "user": user_data(member.user),
            "role": member.role,
            "muted_until": _iso(member.muted_until),
        }


class FriendSerializer(ChatUserSerializer):
    """Context: `online`, the ids of the friends with a socket open now."""

    online = serializers.BooleanField(help_text="Has a socket open now.")

    def to_representation(self, friend) -> dict:
        return {**user_data(friend), "online": friend.pk in self.context["online"]}


class FriendRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    from_user = ChatUserSerializer()
    to_user = ChatUserSerializer()
    status = serializers.ChoiceField(choices=FriendRequestStatus.choices)
    created_at = serializers.DateTimeField()

    def to_representation(self, request) -> dict:
        return {
            "id": request.pk,
            "from_user": user_data(request.from_user),
            "to_user": user_data(request.to_user),
            "status": request.status,
            "created_at": _iso(request.created_at),
        }


class FriendRequestSentSerializer(FriendRequestSerializer):
    accepted = serializers.BooleanField(
        help_text="True: the user had already asked you, so you are friends now (their request, "
        "accepted, is the one shown)."
    )


class BlockSerializer(serializers.Serializer):
    user = ChatUserSerializer(help_text="The user you blocked.")
    created_at = serializers.DateTimeField()

    def to_representation(self, block) -> dict:
        return {"user": user_data(block.blocked), "created_at": _iso(block.created_at)}


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ReportReason.choices)
    detail = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ReportStatus.choices)
    created_at = serializers.DateTimeField()

    def to_representation(self, report) -> dict:
        return {
            "id": report.pk,
            "message": report.message_id,
            "reason": report.reason,
            "detail": report.detail,
            "status": report.status,
            "created_at": _iso(report.created_at),
        }


class MessagePageSerializer(serializers.Serializer):
    results = MessageSerializer(many=True, help_text="In seq order, oldest first.")
    has_more = serializers.BooleanField(
        help_text="More messages lie beyond this page in the direction asked."
    )


class MessageNewEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["message.new"])
    message = MessageSerializer()


class EventsSerializer(serializers.Serializer):
    events = MessageNewEventSerializer(
        many=True, help_text="The socket's frames for what was missed, in seq order."
    )
    has_more = serializers.BooleanField(
        help_text="Messages after `after_seq` exist that are not in `events`."
    )
    resync_required = serializers.BooleanField(
        help_text="More than CHAT_RESUME_LIMIT were missed: `events` is empty; reload the room "
        "from its latest history page (messages/) instead."
    )


class ReadMarkerSerializer(serializers.Serializer):
    last_read_seq = serializers.IntegerField()

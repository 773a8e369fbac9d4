"""Messages: history by seq, sending without a socket, editing, deleting, reporting; the read
marker; and the catch-up a socket gets on `resume`, for clients without one."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.access import room_for
from chat.apis.common import MESSAGE_ID, ROOM_ID, BodyField, id_field, seq_field
from chat.errors import (
    AlreadyReported,
    ClientMsgIdReused,
    MessageDeleted,
    MessageNotFound,
    Muted,
    NotFriends,
    NotMessageAuthor,
    RateLimited,
    ReplyNotInRoom,
    RoomNotFound,
    UserBlocked,
)
from chat.models import CLIENT_MSG_ID_MAX_LENGTH, ReportReason
from chat.payloads import message_data
from chat.selectors.rooms import MESSAGES_MAX_LIMIT, messages_after, messages_page
from chat.serializers import (
    EventsSerializer,
    MessagePageSerializer,
    MessageSerializer,
    ReadMarkerSerializer,
    ReportSerializer,
)
from chat.services.messages import (
    CLIENT_MSG_ID,
    message_delete,
    message_edit,
    message_send,
    read_marker_set,
)
from chat.services.reports import DETAIL_MAX_LENGTH, message_report
from chat.throttles import ReportThrottle
from core.openapi import errors_of
from core.serializers import StrictCharField
from courses.errors import NotEntitled

ROOM_ACCESS = (RoomNotFound, NotEntitled)


class MessageListSendApi(APIView):
    permission_classes = (IsAuthenticated,)

    class FilterSerializer(serializers.Serializer):
        before_seq = seq_field(required=False, help_text="Messages before this seq.")
        after_seq = seq_field(required=False, help_text="Messages after this seq.")
        limit = serializers.IntegerField(
            min_value=1, max_value=MESSAGES_MAX_LIMIT, default=50, help_text="1 to 100."
        )

        def validate(self, data):
            if "before_seq" in data and "after_seq" in data:
                raise serializers.ValidationError(
                    {"after_seq": [_("Give before_seq or after_seq, not both.")]}
                )
            return data

    class InputSerializer(serializers.Serializer):
        client_msg_id = StrictCharField(
            max_length=CLIENT_MSG_ID_MAX_LENGTH,
            validators=[
                RegexValidator(rf"\A{CLIENT_MSG_ID.pattern}\Z", _("Use A-Z a-z 0-9 . _ : - only."))
            ],
            help_text="Your own id for this send (e.g. a UUID): sending again with the same id "
            "returns the same message (200) instead of a second one.",
        )
        body = BodyField()
        reply_to = id_field(required=False, allow_null=True, help_text="A message of the room.")

    @extend_schema(
        operation_id="chat_rooms_messages_list",
        parameters=[ROOM_ID, FilterSerializer],
        responses={200: MessagePageSerializer, **errors_of(*ROOM_ACCESS)},
    )
    def get(self, request, room_id: int):
        """History by seq cursor: the latest `limit` messages; those before `before_seq` (scroll
        up); or those after `after_seq` (catch up). Deleted messages stay as tombstones
        (`deleted`, empty body), so seqs have no gaps."""
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        messages, has_more = messages_page(
            user=request.user, room_id=room_id, **query.validated_data
        )
        return Response(
            {"results": [message_data(message) for message in messages], "has_more": has_more}
        )

    @extend_schema(
        operation_id="chat_rooms_messages_send",
        parameters=[ROOM_ID],
        request=InputSerializer,
        responses={
            200: OpenApiResponse(MessageSerializer, description="A replay: the message sent."),
            201: MessageSerializer,
            **errors_of(
                *ROOM_ACCESS, Muted, NotFriends, UserBlocked, ReplyNotInRoom, ClientMsgIdReused,
                RateLimited,
            ),
        },
    )  # fmt: skip
    def post(self, request, room_id: int):
        """Send without a socket: the room's members hear `message.new` as for a socket's send.
        The same `client_msg_id` again (same room and body) is a retry: 200 with the first
        message; with another room or body, 409 `client_msg_id_reused`. Over the rate
        (CHAT_MESSAGE_RATE, sockets and REST together): 429 `throttled` with Retry-After."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message, created = message_send(
            user=request.user, room_id=room_id, **serializer.validated_data
        )
        return Response(
            message_data(message),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class MessageDetailApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        body = BodyField()

    @extend_schema(
        operation_id="chat_messages_edit",
        parameters=[MESSAGE_ID],
        request=InputSerializer,
        responses={
            200: MessageSerializer,
            **errors_of(
                MessageNotFound, NotMessageAuthor, MessageDeleted, Muted, NotFriends, UserBlocked,
                RateLimited,
            ),
        },
    )  # fmt: skip
    def patch(self, request, message_id: int):
        """The author edits their message (`edited_at` set; the room hears `message.updated`),
        while they could still send it (not muted, blocked or unfriended); edits count against
        the message rate."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = message_edit(
            user=request.user, message_id=message_id, body=serializer.validated_data["body"]
        )
        return Response(message_data(message))

    @extend_schema(
        operation_id="chat_messages_delete",
        parameters=[MESSAGE_ID],
        responses={204: None, **errors_of(MessageNotFound, NotMessageAuthor, RateLimited)},
    )
    def delete(self, request, message_id: int):
        """The author, or a moderator of the room: the body goes, a tombstone keeps the seq (the
        room hears `message.deleted`). Deletions count against the message rate; deleting again
        changes nothing and counts for nothing."""
        message_delete(user=request.user, message_id=message_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageReportApi(APIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (ReportThrottle,)

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=ReportReason.choices)
        detail = StrictCharField(
            max_length=DETAIL_MAX_LENGTH, required=False, allow_blank=True, default=""
        )

    @extend_schema(
        operation_id="chat_messages_report",
        parameters=[MESSAGE_ID],
        request=InputSerializer,
        responses={201: ReportSerializer, **errors_of(MessageNotFound, AlreadyReported)},
    )
    def post(self, request, message_id: int):
        """Report a message of a room the caller may read, for staff (the admin). The body is
        kept as reported, so a later edit or deletion hides nothing."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = message_report(
            user=request.user, message_id=message_id, **serializer.validated_data
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class ReadMarkerApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        seq = seq_field(help_text="Read up to here (capped at the room's last seq).")

    @extend_schema(
        operation_id="chat_rooms_read",
        parameters=[ROOM_ID],
        request=InputSerializer,
        responses={200: ReadMarkerSerializer, **errors_of(*ROOM_ACCESS)},
    )
    def post(self, request, room_id: int):
        """The caller's read marker moves forward only (an older seq leaves it); their other
        sockets and the room hear `read.updated`."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marker = read_marker_set(
            user=request.user, room_id=room_id, seq=serializer.validated_data["seq"]
        )
        return Response({"last_read_seq": marker})


class RoomEventsApi(APIView):
    permission_classes = (IsAuthenticated,)

    class FilterSerializer(serializers.Serializer):
        after_seq = seq_field(help_text="The last seq the client has.")

    @extend_schema(
        operation_id="chat_rooms_events",
        parameters=[ROOM_ID, FilterSerializer],
        responses={200: EventsSerializer, **errors_of(*ROOM_ACCESS)},
    )
    def get(self, request, room_id: int):
        """What a socket's `resume` sends for the room: a `message.new` frame per message after
        `after_seq` (as it is now), up to CHAT_RESUME_LIMIT; beyond that, none and
        `resync_required`."""
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        room = room_for(user=request.user, room_id=room_id)
        limit = settings.CHAT_RESUME_LIMIT
        missed = messages_after(
            room_id=room.pk, after_seq=query.validated_data["after_seq"], up_to=None,
            limit=limit + 1,
        )  # fmt: skip
        if len(missed) > limit:
            return Response({"events": [], "has_more": True, "resync_required": True})
        events = [{"type": "message.new", "message": message_data(message)} for message in missed]
        return Response({"events": events, "has_more": False, "resync_required": False})

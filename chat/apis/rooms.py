"""Rooms: the caller's list, group rooms, the direct room of two friends, a course's room."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.apis.common import ROOM_ID, UserInputSerializer, id_field, room_data, rooms_data
from chat.errors import (
    CannotFriendSelf,
    ModeratorOnly,
    NotAGroupRoom,
    NotFriends,
    RoomNotFound,
    TooManyMembers,
    UserBlocked,
    UserNotFound,
)
from chat.models import TITLE_MAX_LENGTH, Room
from chat.selectors.rooms import room_list
from chat.serializers import RoomSerializer
from chat.services.rooms import course_room_open, direct_room_open, group_room_create, room_rename
from core.openapi import errors_of
from core.serializers import StrictCharField
from courses.errors import NotEntitled


class RoomListCreateApi(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    queryset = Room.objects.none()  # for the schema

    class InputSerializer(serializers.Serializer):
        title = StrictCharField(max_length=TITLE_MAX_LENGTH)
        members = serializers.ListField(
            child=id_field(),
            required=False,
            default=list,
            help_text="Friends of yours to add (you are its moderator); CHAT_GROUP_MAX_MEMBERS "
            "(500) members in all.",
        )

    serializer_class = InputSerializer  # what OPTIONS describes

    @extend_schema(operation_id="chat_rooms_list", responses={200: RoomSerializer(many=True)})
    def get(self, request):
        """The caller's rooms (direct, group, and the rooms of the courses they may study),
        latest activity first, with unread counts and last messages."""
        rooms = self.paginate_queryset(room_list(request.user))
        assert rooms is not None  # every list is paginated  # nosec B101
        return self.get_paginated_response(rooms_data(rooms, user=request.user))

    @extend_schema(
        operation_id="chat_rooms_create",
        request=InputSerializer,
        responses={201: RoomSerializer, **errors_of(NotFriends, TooManyMembers)},
    )
    def post(self, request):
        """A group room of the caller (its moderator) and friends of theirs: anyone else is 403
        `not_friends`, with the ids in `fields.members`."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = group_room_create(
            user=request.user,
            title=serializer.validated_data["title"],
            member_ids=serializer.validated_data["members"],
        )
        return Response(room_data(room.pk, user=request.user), status=status.HTTP_201_CREATED)


class DirectRoomOpenApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_rooms_direct_open",
        request=UserInputSerializer,
        responses={
            200: RoomSerializer,
            201: RoomSerializer,
            **errors_of(UserNotFound, CannotFriendSelf, UserBlocked, NotFriends),
        },
    )
    def post(self, request):
        """The one room of the caller and a friend: 201 when made now, 200 when it existed.
        Not friends: 403 `not_friends`; a block either way: 403 `blocked`."""
        serializer = UserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room, created = direct_room_open(
            user=request.user, user_id=serializer.validated_data["user"]
        )
        return Response(
            room_data(room.pk, user=request.user),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class CourseRoomOpenApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        course = id_field()

    @extend_schema(
        operation_id="chat_rooms_course_open",
        request=InputSerializer,
        responses={200: RoomSerializer, **errors_of(RoomNotFound, NotEntitled)},
    )
    def post(self, request):
        """The room of a course the caller may study (enrolled, its tutor, staff); 403
        `not_entitled` otherwise, 404 for a course they cannot see."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = course_room_open(user=request.user, course_id=serializer.validated_data["course"])
        return Response(room_data(room.pk, user=request.user))


class RoomDetailApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        title = StrictCharField(max_length=TITLE_MAX_LENGTH)

    @extend_schema(
        operation_id="chat_rooms_retrieve",
        parameters=[ROOM_ID],
        responses={200: RoomSerializer, **errors_of(RoomNotFound, NotEntitled)},
    )
    def get(self, request, room_id: int):
        """One of the caller's rooms; another's is 404."""
        return Response(room_data(room_id, user=request.user))

    @extend_schema(
        operation_id="chat_rooms_rename",
        parameters=[ROOM_ID],
        request=InputSerializer,
        responses={
            200: RoomSerializer,
            **errors_of(RoomNotFound, NotEntitled, ModeratorOnly, NotAGroupRoom),
        },
    )
    def patch(self, request, room_id: int):
        """A group room's moderators rename it; its members hear `room.updated`."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room_rename(user=request.user, room_id=room_id, title=serializer.validated_data["title"])
        return Response(room_data(room_id, user=request.user))

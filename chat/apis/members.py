"""A room's members: the list, adding and removing (moderators of group rooms), leaving, muting."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.apis.common import ROOM_ID, USER_ID, UserInputSerializer
from chat.errors import (
    AlreadyMember,
    CannotFriendSelf,
    ModeratorOnly,
    NotAGroupRoom,
    NotFriends,
    NotMember,
    RoomNotFound,
    TooManyMembers,
    UserBlocked,
    UserNotFound,
)
from chat.models import Membership
from chat.selectors.members import room_members
from chat.serializers import MemberSerializer
from chat.services.rooms import member_add, member_mute, member_remove, room_leave
from core.openapi import errors_of
from courses.errors import NotEntitled


class RoomMemberListAddApi(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    queryset = Membership.objects.none()  # for the schema
    serializer_class = UserInputSerializer  # what OPTIONS describes

    @extend_schema(
        operation_id="chat_rooms_members_list",
        parameters=[ROOM_ID],
        responses={200: MemberSerializer(many=True), **errors_of(RoomNotFound, NotEntitled)},
    )
    def get(self, request, room_id: int):
        """Moderators first, then by username. A course room's members are its tutor (moderator)
        and everyone who may study the course now."""
        members = self.paginate_queryset(room_members(user=request.user, room_id=room_id))
        assert members is not None  # every list is paginated  # nosec B101
        return self.get_paginated_response(MemberSerializer(members, many=True).data)

    @extend_schema(
        operation_id="chat_rooms_members_add",
        parameters=[ROOM_ID],
        request=UserInputSerializer,
        responses={
            201: MemberSerializer,
            **errors_of(
                RoomNotFound, NotEntitled, NotAGroupRoom, ModeratorOnly, UserNotFound,
                CannotFriendSelf, UserBlocked, NotFriends, TooManyMembers, AlreadyMember,
            ),
        },
    )  # fmt: skip
    def post(self, request, room_id: int):
        """A moderator of a group room adds a friend of theirs (who reads from the current seq
        on)."""
        serializer = UserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = member_add(
            user=request.user, room_id=room_id, user_id=serializer.validated_data["user"]
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class RoomMemberRemoveApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_rooms_members_remove",
        parameters=[ROOM_ID, USER_ID],
        responses={
            204: None,
            **errors_of(RoomNotFound, NotEntitled, NotAGroupRoom, ModeratorOnly, NotMember),
        },
    )
    def delete(self, request, room_id: int, user_id: int):
        """A moderator of a group room removes a member; their sockets leave the room at once.
        A room left without a moderator gets its longest-standing member as one."""
        member_remove(user=request.user, room_id=room_id, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomLeaveApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_rooms_leave",
        parameters=[ROOM_ID],
        request=None,
        responses={204: None, **errors_of(RoomNotFound, NotEntitled, NotAGroupRoom)},
    )
    def post(self, request, room_id: int):
        """Leave a group room (a direct room goes with the friendship, a course room with the
        course: 409 `not_a_group_room`)."""
        room_leave(user=request.user, room_id=room_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoomMemberMuteApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        until = serializers.DateTimeField(
            allow_null=True, help_text="null (or a past time) lifts the mute."
        )

    @extend_schema(
        operation_id="chat_rooms_members_mute",
        parameters=[ROOM_ID, USER_ID],
        request=InputSerializer,
        responses={
            200: MemberSerializer,
            **errors_of(
                RoomNotFound, NotEntitled, ModeratorOnly, NotAGroupRoom, UserNotFound,
                CannotFriendSelf, NotMember,
            ),
        },
    )  # fmt: skip
    def post(self, request, room_id: int, user_id: int):
        """A moderator (of a group room; a course's tutor or staff in its room) stops a member
        posting until `until`: their sends are 403 `muted`."""
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = member_mute(
            user=request.user,
            room_id=room_id,
            user_id=user_id,
            until=serializer.validated_data["until"],
        )
        return Response(MemberSerializer(membership).data)

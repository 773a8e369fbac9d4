"""Friends, friend requests and blocks."""

from typing import cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import CustomUser
from chat.apis.common import REQUEST_ID, USER_ID, UserInputSerializer
from chat.errors import (
    AlreadyFriends,
    BlockNotFound,
    CannotFriendSelf,
    FriendNotFound,
    FriendRequestNotFound,
    FriendRequestPending,
    UserBlocked,
    UserNotFound,
)
from chat.models import Block, FriendRequest
from chat.selectors.friends import blocks_of, friend_requests_of, friends_of
from chat.serializers import (
    BlockSerializer,
    FriendRequestSentSerializer,
    FriendRequestSerializer,
    FriendSerializer,
)
from chat.services.friends import (
    block_create,
    block_delete,
    friend_remove,
    friend_request_accept,
    friend_request_cancel,
    friend_request_decline,
    friend_request_send,
)
from chat.services.sockets import online_friend_ids
from chat.throttles import FriendRequestThrottle
from core.openapi import errors_of


class FriendListApi(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    queryset = CustomUser.objects.none()  # for the schema
    serializer_class = FriendSerializer

    @extend_schema(operation_id="chat_friends_list", responses={200: FriendSerializer(many=True)})
    def get(self, request):
        """The caller's friends, by username, each with `online` (a socket open now)."""
        user = cast(CustomUser, request.user)  # IsAuthenticated: never the anonymous user
        friends = self.paginate_queryset(friends_of(user))
        assert friends is not None  # every list is paginated  # nosec B101
        context = {"online": set(online_friend_ids(user.pk))}
        return self.get_paginated_response(
            FriendSerializer(friends, many=True, context=context).data
        )


class FriendRemoveApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_friends_remove",
        parameters=[USER_ID],
        responses={204: None, **errors_of(FriendNotFound)},
    )
    def delete(self, request, user_id: int):
        """End a friendship: neither may post in the direct room any more (it stays, read-only,
        with its history)."""
        friend_remove(user=request.user, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FriendRequestListSendApi(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    throttle_classes = (FriendRequestThrottle,)  # sending only; the listing is not counted
    queryset = FriendRequest.objects.none()  # for the schema
    serializer_class = UserInputSerializer  # what OPTIONS describes

    class FilterSerializer(serializers.Serializer):
        direction = serializers.ChoiceField(
            choices=["incoming", "outgoing"], default="incoming", help_text="Default incoming."
        )

    @extend_schema(
        operation_id="chat_friend_requests_list",
        parameters=[FilterSerializer],
        responses={200: FriendRequestSerializer(many=True)},
    )
    def get(self, request):
        """Pending requests the caller received (incoming) or sent (outgoing), newest first."""
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        requests = self.paginate_queryset(
            friend_requests_of(request.user, direction=query.validated_data["direction"])
        )
        assert requests is not None  # every list is paginated  # nosec B101
        return self.get_paginated_response(FriendRequestSerializer(requests, many=True).data)

    @extend_schema(
        operation_id="chat_friend_requests_send",
        request=UserInputSerializer,
        responses={
            201: FriendRequestSentSerializer,
            **errors_of(
                UserNotFound, CannotFriendSelf, UserBlocked, AlreadyFriends, FriendRequestPending
            ),
        },
    )
    def post(self, request):
        """Ask a user to be friends (they hear `friend.request`). If they had already asked the
        caller, both wanted it: their request is accepted now (`accepted: true`)."""
        serializer = UserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        friend_request, accepted = friend_request_send(
            user=request.user, user_id=serializer.validated_data["user"]
        )
        data = {**FriendRequestSerializer(friend_request).data, "accepted": accepted}
        return Response(data, status=status.HTTP_201_CREATED)


class FriendRequestCancelApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_friend_requests_cancel",
        parameters=[REQUEST_ID],
        responses={204: None, **errors_of(FriendRequestNotFound)},
    )
    def delete(self, request, request_id: int):
        """The sender takes back a pending request."""
        friend_request_cancel(user=request.user, request_id=request_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FriendRequestAcceptApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_friend_requests_accept",
        parameters=[REQUEST_ID],
        request=None,
        responses={200: FriendRequestSerializer, **errors_of(FriendRequestNotFound, UserBlocked)},
    )
    def post(self, request, request_id: int):
        """The addressee accepts: both are friends (both hear `friend.added`)."""
        friend_request = friend_request_accept(user=request.user, request_id=request_id)
        return Response(FriendRequestSerializer(friend_request).data)


class FriendRequestDeclineApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_friend_requests_decline",
        parameters=[REQUEST_ID],
        request=None,
        responses={200: FriendRequestSerializer, **errors_of(FriendRequestNotFound)},
    )
    def post(self, request, request_id: int):
        """The addressee declines; the sender is not told."""
        friend_request = friend_request_decline(user=request.user, request_id=request_id)
        return Response(FriendRequestSerializer(friend_request).data)


class BlockListCreateApi(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    queryset = Block.objects.none()  # for the schema
    serializer_class = UserInputSerializer  # what OPTIONS describes

    @extend_schema(operation_id="chat_blocks_list", responses={200: BlockSerializer(many=True)})
    def get(self, request):
        """The users the caller blocked, newest first."""
        blocks = self.paginate_queryset(blocks_of(request.user))
        assert blocks is not None  # every list is paginated  # nosec B101
        return self.get_paginated_response(BlockSerializer(blocks, many=True).data)

    @extend_schema(
        operation_id="chat_blocks_create",
        request=UserInputSerializer,
        responses={
            200: OpenApiResponse(BlockSerializer, description="Already blocked."),
            201: BlockSerializer,
            **errors_of(UserNotFound, CannotFriendSelf),
        },
    )
    def post(self, request):
        """Block a user: it ends the friendship and pending requests, and stops messages both ways
        at once. The blocked user is not told (they are refused with `blocked`, as when they
        block)."""
        serializer = UserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        block, created = block_create(user=request.user, user_id=serializer.validated_data["user"])
        return Response(
            BlockSerializer(block).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class BlockDeleteApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_blocks_delete",
        parameters=[USER_ID],
        responses={204: None, **errors_of(BlockNotFound)},
    )
    def delete(self, request, user_id: int):
        """Unblock (friendship does not come back: ask again)."""
        block_delete(user=request.user, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

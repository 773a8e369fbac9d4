from django.urls import path

from chat.apis import friends, members, messages, rooms, tickets

ROOM = "chat/rooms/<int:room_id>"
MEMBER = f"{ROOM}/members/<int:user_id>"

urlpatterns = [
    path("chat/ws-ticket/", tickets.SocketTicketApi.as_view(), name="chat-ws-ticket"),
    path("chat/rooms/", rooms.RoomListCreateApi.as_view(), name="chat-rooms"),
    path("chat/rooms/direct/", rooms.DirectRoomOpenApi.as_view(), name="chat-room-direct"),
    path("chat/rooms/course/", rooms.CourseRoomOpenApi.as_view(), name="chat-room-course"),
    path(f"{ROOM}/", rooms.RoomDetailApi.as_view(), name="chat-room"),
    path(f"{ROOM}/members/", members.RoomMemberListAddApi.as_view(), name="chat-room-members"),
    path(f"{MEMBER}/", members.RoomMemberRemoveApi.as_view(), name="chat-room-member"),
    path(f"{MEMBER}/mute/", members.RoomMemberMuteApi.as_view(), name="chat-room-member-mute"),
    path(f"{ROOM}/leave/", members.RoomLeaveApi.as_view(), name="chat-room-leave"),
    path(f"{ROOM}/messages/", messages.MessageListSendApi.as_view(), name="chat-room-messages"),
    path(f"{ROOM}/read/", messages.ReadMarkerApi.as_view(), name="chat-room-read"),
    path(f"{ROOM}/events/", messages.RoomEventsApi.as_view(), name="chat-room-events"),
    path(
        "chat/messages/<int:message_id>/", messages.MessageDetailApi.as_view(), name="chat-message"
    ),
    path(
        "chat/messages/<int:message_id>/report/",
        messages.MessageReportApi.as_view(),
        name="chat-message-report",
    ),
    path("chat/friends/", friends.FriendListApi.as_view(), name="chat-friends"),
    path("chat/friends/<int:user_id>/", friends.FriendRemoveApi.as_view(), name="chat-friend"),
    path(
        "chat/friend-requests/",
        friends.FriendRequestListSendApi.as_view(),
        name="chat-friend-requests",
    ),
    path(
        "chat/friend-requests/<int:request_id>/",
        friends.FriendRequestCancelApi.as_view(),
        name="chat-friend-request",
    ),
    path(
        "chat/friend-requests/<int:request_id>/accept/",
        friends.FriendRequestAcceptApi.as_view(),
        name="chat-friend-request-accept",
    ),
    path(
        "chat/friend-requests/<int:request_id>/decline/",
        friends.FriendRequestDeclineApi.as_view(),
        name="chat-friend-request-decline",
    ),
    path("chat/blocks/", friends.BlockListCreateApi.as_view(), name="chat-blocks"),
    path("chat/blocks/<int:user_id>/", friends.BlockDeleteApi.as_view(), name="chat-block"),
]

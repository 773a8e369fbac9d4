from django.urls import path

from chat.apis import tickets

urlpatterns = [
    path("chat/ws-ticket/", tickets.SocketTicketApi.as_view(), name="chat-ws-ticket"),
]

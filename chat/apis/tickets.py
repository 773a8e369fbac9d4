"""POST /api/chat/ws-ticket/: what a client presents to open its socket."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth.tokens import SESSION_CLAIM
from chat.protocol import PROTOCOL, TICKET_PREFIX
from chat.services.sockets import ticket_issue

SOCKET_PATH = "/ws/chat/"


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Single use; only its hash is stored.")
    expires_in = serializers.IntegerField(help_text="Seconds left to open the socket with it.")
    url = serializers.CharField(help_text=f"The socket's path on this host ({SOCKET_PATH}).")
    subprotocols = serializers.ListField(
        child=serializers.CharField(),
        help_text=f'Offer exactly these when opening the socket: ["{PROTOCOL}", '
        f'"{TICKET_PREFIX}<ticket>"]; the server answers with "{PROTOCOL}".',
    )


class SocketTicketApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="chat_ws_ticket_create",
        request=None,
        responses={201: TicketSerializer},
        description=(
            "A single-use ticket, valid for CHAT_TICKET_SECONDS (30 s) and bound to the caller "
            "and their login session, to open one socket at `/ws/chat/`. It travels as a "
            "subprotocol, never in the URL: URLs end up in access logs. Ending the session "
            "(logout, password change...) closes the sockets it opened with code 4001."
        ),
    )
    def post(self, request):
        raw, _ticket = ticket_issue(user=request.user, session_id=request.auth[SESSION_CLAIM])
        return Response(
            {
                "ticket": raw,
                "expires_in": settings.CHAT_TICKET_SECONDS,
                "url": SOCKET_PATH,
                "subprotocols": [PROTOCOL, TICKET_PREFIX + raw],
            },
            status=status.HTTP_201_CREATED,
        )

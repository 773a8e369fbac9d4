"""Token refresh and verification, logout, and the caller's login sessions."""

from typing import cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import Token

from accounts.apis.auth import client_info
from accounts.auth import selectors, services
from accounts.auth.cookies import (
    refresh_cookie_clear,
    refresh_cookie_set,
    refresh_token_presented,
    token_pair_body,
)
from accounts.auth.throttles import RefreshIpThrottle, RefreshSessionThrottle
from accounts.errors import (
    OriginNotAllowed,
    RefreshTokenMissing,
    SessionNotFound,
    TokenExpired,
    TokenNotValid,
)
from accounts.models import AuthSession, CustomUser, RevokeReason
from accounts.serializers import AuthSessionSerializer, TokenPairSerializer
from core.openapi import errors_of
from core.serializers import StrictCharField

# What reading the refresh token (refresh_token_presented) may refuse.
REFRESH_TOKEN_ERRORS = (TokenNotValid, RefreshTokenMissing, OriginNotAllowed)


class TokenRefreshApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (RefreshIpThrottle, RefreshSessionThrottle)

    class InputSerializer(serializers.Serializer):
        refresh = StrictCharField(
            required=False, help_text="Omit in cookie mode: the cookie is read instead."
        )

    @extend_schema(
        operation_id="auth_token_refresh",
        request=InputSerializer,
        responses={200: TokenPairSerializer, **errors_of(*REFRESH_TOKEN_ERRORS)},
    )
    def post(self, request):
        pair = services.auth_session_refresh(
            raw_refresh=refresh_token_presented(request), client=client_info(request)
        )
        response = Response(token_pair_body(pair))
        refresh_cookie_set(response, pair)
        return response


class TokenVerifyApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        token = StrictCharField()

    @extend_schema(
        operation_id="auth_token_verify",
        request=InputSerializer,
        responses={
            200: inline_serializer("TokenVerified", fields={}),
            **errors_of(TokenNotValid, TokenExpired),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        selectors.token_verify(raw=serializer.validated_data["token"])
        return Response({})


class LogoutApi(APIView):
    """The refresh token is the credential, so logout works even after the access token expired."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        refresh = StrictCharField(required=False, help_text="Omit in cookie mode.")

    @extend_schema(
        operation_id="auth_logout",
        request=InputSerializer,
        responses={204: None, **errors_of(*REFRESH_TOKEN_ERRORS)},
    )
    def post(self, request):
        services.auth_session_logout(raw_refresh=refresh_token_presented(request))
        response = Response(status=status.HTTP_204_NO_CONTENT)
        refresh_cookie_clear(response)
        return response


class LogoutAllApi(APIView):
    @extend_schema(operation_id="auth_logout_all", request=None, responses={204: None})
    def post(self, request):
        services.auth_sessions_revoke(user=request.user, reason=RevokeReason.LOGOUT_ALL)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        refresh_cookie_clear(response)
        return response


class SessionListApi(ListAPIView):
    serializer_class = AuthSessionSerializer
    queryset = AuthSession.objects.none()  # for the schema; the real one is the caller's

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        # IsAuthenticated (the default permission) ran before: the caller is a user.
        return selectors.auth_session_list_live(user=cast(CustomUser, self.request.user))

    def get_serializer_context(self):
        context = dict(super().get_serializer_context())
        if self.request.auth is not None:
            # The access token SessionJWTAuthentication validated.
            context["current_session_id"] = str(cast(Token, self.request.auth)["sid"])
        return context

    @extend_schema(operation_id="auth_sessions_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SessionDeleteApi(APIView):
    @extend_schema(
        operation_id="auth_sessions_delete",
        parameters=[OpenApiParameter("session_id", str, OpenApiParameter.PATH)],
        responses={204: None, **errors_of(SessionNotFound)},
    )
    def delete(self, request, session_id):
        services.auth_session_delete(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Sign-up, username/email availability and login; the helpers the session-starting endpoints
share (client details, the `{user, access, refresh}` response)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.auth.cookies import refresh_cookie_set, token_pair_body
from accounts.auth.services import ClientInfo
from accounts.auth.throttles import (
    AvailabilityIpThrottle,
    LoginAccountThrottle,
    LoginIpThrottle,
    RegisterAccountThrottle,
    RegisterIpThrottle,
)
from accounts.errors import InvalidCredentials
from accounts.serializers import (
    CanonicalEmailField,
    CurrentUserSerializer,
    SessionResponseSerializer,
    StaffAssignedFieldsRefused,
    UsernameField,
)
from core.openapi import errors_of
from core.serializers import StrictCharField


def password_field() -> StrictCharField:
    """A password as typed: never trimmed, never echoed back."""
    return StrictCharField(max_length=128, trim_whitespace=False, write_only=True)


def client_info(request) -> ClientInfo:
    return ClientInfo(
        user_agent=request.headers.get("User-Agent", ""),
        ip=BaseThrottle().get_ident(request) or None,
    )


def session_response(user, pair, *, status_code=status.HTTP_200_OK, extra=None) -> Response:
    """`{user, access, refresh}`; in cookie mode the refresh token goes into the cookie."""
    body = {"user": CurrentUserSerializer(user).data, **token_pair_body(pair), **(extra or {})}
    response = Response(body, status=status_code)
    refresh_cookie_set(response, pair)
    return response


class RegisterApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (RegisterIpThrottle, RegisterAccountThrottle)

    class InputSerializer(StaffAssignedFieldsRefused):
        email = CanonicalEmailField()
        username = UsernameField()
        password = password_field()
        password_confirm = password_field()
        name = StrictCharField(max_length=50, required=False, allow_blank=True)

        def validate_email(self, value: str) -> str:
            if not selectors.email_is_available(email=value):
                raise serializers.ValidationError(_("An account with this email already exists."))
            return value

        def validate_username(self, value: str) -> str:
            if not selectors.username_is_available(username=value):
                raise serializers.ValidationError(_("This username is taken."))
            return value

        def validate(self, attrs):
            attrs = super().validate(attrs)
            if attrs["password"] != attrs["password_confirm"]:
                raise serializers.ValidationError(
                    {"password_confirm": [_("The two passwords do not match.")]}
                )
            return attrs

    @extend_schema(
        operation_id="auth_register",
        request=InputSerializer,
        responses={201: SessionResponseSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        data.pop("password_confirm")
        user, pair = services.user_register(**data, client=client_info(request))
        return session_response(user, pair, status_code=status.HTTP_201_CREATED)


class AvailabilityApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AvailabilityIpThrottle,)

    class QuerySerializer(serializers.Serializer):
        username = UsernameField(required=False)
        email = CanonicalEmailField(required=False)

        def validate(self, attrs):
            if len(attrs) != 1:
                raise serializers.ValidationError(_("Give exactly one of username or email."))
            return attrs

    class OutputSerializer(serializers.Serializer):
        field = serializers.ChoiceField(choices=["username", "email"])
        value = serializers.CharField()
        available = serializers.BooleanField()

    @extend_schema(
        operation_id="auth_availability",
        parameters=[QuerySerializer],
        responses={200: OutputSerializer},
    )
    def get(self, request):
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ((field, value),) = query.validated_data.items()
        available = selectors.identity_is_available(field=field, value=value)
        return Response({"field": field, "value": value, "available": available})


class LoginApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginIpThrottle, LoginAccountThrottle)

    class InputSerializer(serializers.Serializer):
        login = StrictCharField(max_length=254, help_text="Email or username.")
        password = password_field()

    @extend_schema(
        operation_id="auth_login",
        request=InputSerializer,
        responses={200: SessionResponseSerializer, **errors_of(InvalidCredentials)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair = services.user_login(**serializer.validated_data, client=client_info(request))
        return session_response(user, pair)

"""Sign-up, login, token refresh/verify, logout and the user's sessions."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts import selectors, services
from accounts.authentication import SessionJWTAuthentication
from accounts.cookies import (
    cookie_mode,
    origin_check,
    refresh_cookie_clear,
    refresh_cookie_set,
    refresh_token_from_request,
    token_pair_body,
)
from accounts.models import AuthSession, RevokeReason
from accounts.serializers import (
    AuthSessionSerializer,
    CanonicalEmailField,
    CurrentUserSerializer,
    SessionResponseSerializer,
    StaffAssignedFieldsRefused,
    TokenPairSerializer,
    UsernameField,
)
from accounts.services import ClientInfo
from accounts.throttles import (
    AvailabilityIpThrottle,
    LoginAccountThrottle,
    LoginIpThrottle,
    RefreshIpThrottle,
    RefreshSessionThrottle,
    RegisterAccountThrottle,
    RegisterIpThrottle,
)
from accounts.tokens import access_token_decode, refresh_token_decode, token_not_valid
from core.exceptions import ApplicationError
from core.openapi import error_response
from core.serializers import StrictCharField

PASSWORD_FIELD = {"max_length": 128, "trim_whitespace": False, "write_only": True}


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


def refresh_token_required(request) -> str:
    raw = refresh_token_from_request(request)
    if raw is None:
        if hasattr(request.data, "get") and "refresh" in request.data:
            raise token_not_valid()
        if cookie_mode():
            # No cookie: logged out (or it expired); the frontend must log in, not fix a field.
            raise ApplicationError(
                "not_authenticated",
                _("No refresh token was sent. Log in again."),
                status.HTTP_401_UNAUTHORIZED,
            )
        raise serializers.ValidationError({"refresh": [_("This field is required.")]})
    return raw


class RegisterApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (RegisterIpThrottle, RegisterAccountThrottle)

    class InputSerializer(StaffAssignedFieldsRefused, serializers.Serializer):
        email = CanonicalEmailField()
        username = UsernameField()
        password = StrictCharField(**PASSWORD_FIELD)
        password_confirm = StrictCharField(**PASSWORD_FIELD)
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
        if field == "username":
            available = selectors.username_is_available(username=value)
        else:
            available = selectors.email_is_available(email=value)
        return Response({"field": field, "value": value, "available": available})


class LoginApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (LoginIpThrottle, LoginAccountThrottle)

    class InputSerializer(serializers.Serializer):
        login = StrictCharField(max_length=254, help_text="Email or username.")
        password = StrictCharField(**PASSWORD_FIELD)

    @extend_schema(
        operation_id="auth_login",
        request=InputSerializer,
        responses={
            200: SessionResponseSerializer,
            401: error_response("`invalid_credentials`: unknown login or wrong password."),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair = services.user_login(**serializer.validated_data, client=client_info(request))
        return session_response(user, pair)


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
        responses={
            200: TokenPairSerializer,
            401: error_response(
                "`token_not_valid`: expired, forged or already used; reuse ends the session."
            ),
            403: error_response("`origin_not_allowed` (cookie mode)."),
        },
    )
    def post(self, request):
        origin_check(request)
        pair = services.auth_session_refresh(
            raw_refresh=refresh_token_required(request), client=client_info(request)
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
            401: error_response(
                "`token_not_valid`, or `token_expired` for an expired access token."
            ),
        },
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data["token"]
        try:
            token = access_token_decode(raw)
        except ApplicationError as exc:
            if exc.code == "token_expired":
                raise
            token = refresh_token_decode(raw)
            if not selectors.refresh_token_is_current(token=token):
                raise token_not_valid() from None
        else:
            try:
                SessionJWTAuthentication().get_user(token)
            except AuthenticationFailed:
                raise token_not_valid() from None
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
        responses={
            204: None,
            401: error_response("`token_not_valid`."),
            403: error_response("`origin_not_allowed` (cookie mode)."),
        },
    )
    def post(self, request):
        origin_check(request)
        services.auth_session_logout(raw_refresh=refresh_token_required(request))
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
        return selectors.auth_session_list_live(user=self.request.user)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.auth is not None:
            context["current_session_id"] = str(self.request.auth["sid"])
        return context

    @extend_schema(operation_id="auth_sessions_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SessionDeleteApi(APIView):
    @extend_schema(
        operation_id="auth_sessions_delete",
        parameters=[OpenApiParameter("session_id", str, OpenApiParameter.PATH)],
        responses={204: None},
    )
    def delete(self, request, session_id):
        ended = services.auth_sessions_revoke(
            user=request.user, reason=RevokeReason.SESSION_DELETED, session_ids=[session_id]
        )
        if not ended:
            raise ApplicationError("not_found", _("No such session."), status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)

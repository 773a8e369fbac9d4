"""Password change (logged in) and reset by email (logged out)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.apis.auth import client_info, password_field
from accounts.auth.cookies import refresh_cookie_set, token_pair_body
from accounts.auth.throttles import PasswordResetAccountThrottle, PasswordResetIpThrottle
from accounts.errors import InvalidResetToken
from accounts.serializers import CanonicalEmailField, TokenPairSerializer
from core.openapi import errors_of
from core.serializers import StrictCharField

DetailSerializer = inline_serializer("Detail", fields={"detail": serializers.CharField()})


class PasswordChangeApi(APIView):
    class InputSerializer(serializers.Serializer):
        current_password = password_field()
        new_password = password_field()

    @extend_schema(
        operation_id="auth_password_change",
        request=InputSerializer,
        responses={200: TokenPairSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.user_password_change(
            user=request.user, **serializer.validated_data, client=client_info(request)
        )
        response = Response(token_pair_body(pair))
        refresh_cookie_set(response, pair)
        return response


class PasswordResetApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (PasswordResetIpThrottle, PasswordResetAccountThrottle)

    class InputSerializer(serializers.Serializer):
        email = CanonicalEmailField()

    @extend_schema(
        operation_id="auth_password_reset",
        request=InputSerializer,
        responses={202: DetailSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_request(email=serializer.validated_data["email"])
        return Response(
            {"detail": _("If an account uses this email, a reset link is on its way.")},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (PasswordResetIpThrottle,)

    class InputSerializer(serializers.Serializer):
        uid = StrictCharField(max_length=64)
        token = StrictCharField(max_length=128)
        new_password = password_field()

    @extend_schema(
        operation_id="auth_password_reset_confirm",
        request=InputSerializer,
        responses={200: DetailSerializer, **errors_of(InvalidResetToken)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.password_reset_confirm(**serializer.validated_data)
        return Response({"detail": _("Your password has been reset. Log in again.")})

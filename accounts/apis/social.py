"""Sign-in with Google or Kakao: an authorization code or a provider access token -> a session."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.apis.auth import client_info, session_response
from accounts.auth.throttles import SocialIpThrottle
from accounts.errors import (
    EmailUnverified,
    InvalidCredentials,
    ProviderUnavailable,
    SocialAuthFailed,
    SocialEmailRequired,
    SocialTokenRejected,
    SocialTokenUnverifiable,
    UnknownProvider,
)
from accounts.serializers import SessionResponseSerializer
from accounts.social.providers import PROVIDERS
from accounts.social.services import social_login, social_provider_check
from core.openapi import errors_of
from core.serializers import StrictCharField


class SocialLoginApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (SocialIpThrottle,)

    class InputSerializer(serializers.Serializer):
        code = StrictCharField(
            required=False,
            max_length=2048,
            help_text="Authorization code from the provider's redirect (web, or native with PKCE).",
        )
        redirect_uri = StrictCharField(
            required=False,
            max_length=2048,
            help_text="Required with `code`: the redirect_uri the authorization request used.",
        )
        code_verifier = StrictCharField(
            required=False,
            min_length=43,
            max_length=128,
            help_text="PKCE code verifier (RFC 7636), when the authorization request sent a "
            "code_challenge.",
        )
        access_token = StrictCharField(
            required=False,
            max_length=4096,
            help_text="Instead of `code`: an access token from the provider's mobile SDK.",
        )

        def validate(self, attrs):
            if "code" in attrs and "access_token" in attrs:
                raise serializers.ValidationError(_("Give either code or access_token, not both."))
            if "code" in attrs:
                if "redirect_uri" not in attrs:
                    raise serializers.ValidationError(
                        {"redirect_uri": [_("This field is required with code.")]}
                    )
            elif "access_token" in attrs:
                if "code_verifier" in attrs or "redirect_uri" in attrs:
                    raise serializers.ValidationError(
                        _("redirect_uri and code_verifier go with code, not access_token.")
                    )
            else:
                raise serializers.ValidationError(_("Give code and redirect_uri, or access_token."))
            return attrs

    class OutputSerializer(SessionResponseSerializer):
        created = serializers.BooleanField(help_text="True when this sign-in made a new account.")

    @extend_schema(
        operation_id="auth_social",
        description=(
            "Signs in with Google or Kakao. Send either `code` + `redirect_uri` (+ `code_verifier` "
            "for PKCE), which the server exchanges at the provider's token endpoint, or an "
            "`access_token` from the provider's mobile SDK (a Google token must have been "
            "issued to this application's client id). The first sign-in of a provider account "
            "makes a student account, or links the local account with the same email when the "
            "provider has verified that email. The response is the one of login; in cookie "
            "mode the refresh token is set as a cookie instead."
        ),
        parameters=[
            OpenApiParameter(
                "provider",
                str,
                OpenApiParameter.PATH,
                enum=list(PROVIDERS),
                description="The sign-in provider.",
            )
        ],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **errors_of(
                SocialEmailRequired,
                SocialTokenUnverifiable,
                SocialAuthFailed,
                SocialTokenRejected,
                InvalidCredentials,
                UnknownProvider,
                EmailUnverified,
                ProviderUnavailable,
            ),
        },
    )
    def post(self, request, provider: str):
        # An unknown provider is a 404 whatever the body (like an unknown object id).
        social_provider_check(provider=provider)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair, created = social_login(
            provider=provider, **serializer.validated_data, client=client_info(request)
        )
        return session_response(user, pair, extra={"created": created})

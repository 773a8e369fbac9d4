"""The caller's own profile, and the staff user directory where staff place users in parts and
teams (which decide who may vote in which poll)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.auth.cookies import refresh_cookie_clear
from accounts.filters import UserFilter
from accounts.models import Part, Team, phone_validator
from accounts.registry import profile_input_fields
from accounts.serializers import (
    CurrentUserSerializer,
    StaffAssignedFieldsRefused,
    UsernameField,
    UserSerializer,
)
from core.serializers import StrictCharField, StrictPrimaryKeyRelatedField

USER_ID = OpenApiParameter("user_id", int, OpenApiParameter.PATH)


class MeApi(APIView):
    class UpdateSerializer(StaffAssignedFieldsRefused):
        name = StrictCharField(max_length=50, required=False, allow_blank=True)
        username = UsernameField(required=False)
        introduction = StrictCharField(max_length=1000, required=False, allow_blank=True)
        phone = StrictCharField(
            max_length=20, required=False, allow_blank=True, validators=[phone_validator]
        )

        def get_fields(self):
            return {**super().get_fields(), **profile_input_fields()}

        def validate_username(self, value: str) -> str:
            user = self.context["user"]
            if not selectors.username_is_available(username=value, exclude_user=user):
                raise serializers.ValidationError(_("This username is taken."))
            return value

    @extend_schema(operation_id="users_me_retrieve", responses={200: CurrentUserSerializer})
    def get(self, request):
        return Response(CurrentUserSerializer(request.user).data)

    @extend_schema(
        operation_id="users_me_update",
        request=UpdateSerializer,
        responses={200: CurrentUserSerializer},
    )
    def patch(self, request):
        serializer = self.UpdateSerializer(data=request.data, context={"user": request.user})
        serializer.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=serializer.validated_data)
        return Response(CurrentUserSerializer(user).data)

    @extend_schema(operation_id="users_me_deactivate", responses={204: None})
    def delete(self, request):
        services.user_deactivate(user=request.user)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        refresh_cookie_clear(response)
        return response


class UserListApi(ListAPIView):
    permission_classes = (IsAdminUser,)
    serializer_class = UserSerializer
    filterset_class = UserFilter
    queryset = selectors.user_list()

    @extend_schema(operation_id="users_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class UserDetailApi(APIView):
    permission_classes = (IsAdminUser,)

    class MembershipSerializer(serializers.Serializer):
        part = serializers.ChoiceField(choices=Part.choices, required=False, allow_blank=True)
        team = StrictPrimaryKeyRelatedField(
            queryset=Team.objects.all(), required=False, allow_null=True
        )

    @extend_schema(
        operation_id="users_retrieve",
        parameters=[USER_ID],
        responses={200: UserSerializer},
    )
    def get(self, request, user_id: int):
        return Response(UserSerializer(selectors.user_get(user_id=user_id)).data)

    @extend_schema(
        operation_id="users_membership_update",
        parameters=[USER_ID],
        request=MembershipSerializer,
        responses={200: UserSerializer},
        description="Staff only: the user's part and team, which decide poll eligibility.",
    )
    def patch(self, request, user_id: int):
        user = selectors.user_get(user_id=user_id)
        serializer = self.MembershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_membership_set(user=user, data=serializer.validated_data)
        return Response(UserSerializer(user).data)

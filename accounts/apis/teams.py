"""Teams users belong to: anyone lists them, staff create them."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from accounts.errors import TeamExists
from accounts.models import Team
from accounts.serializers import TeamSerializer
from accounts.services import team_create
from core.openapi import errors_of
from core.permissions import IsStaffOrReadOnly
from core.serializers import StrictCharField


class TeamListCreateApi(ListAPIView):
    permission_classes = (IsStaffOrReadOnly,)
    serializer_class = TeamSerializer
    queryset = Team.objects.order_by("name")

    class InputSerializer(serializers.Serializer):
        name = StrictCharField(max_length=50)
        description = StrictCharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(operation_id="teams_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="teams_create",
        request=InputSerializer,
        responses={201: TeamSerializer, **errors_of(TeamExists)},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = team_create(**serializer.validated_data)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)

"""Curriculums: bundles of courses at their own price; public reads, their tutor's or staff's
writes."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import errors_of
from core.serializers import MAX_ID, StrictCharField
from courses.errors import CurriculumHasOrders, TutorOrStaffOnly
from courses.models import Curriculum
from courses.permissions import CanEditOrReadOnly, IsTutorOrStaffOrReadOnly
from courses.selectors import catalogue as selectors
from courses.serializers import CurriculumSerializer
from courses.services import catalogue as services

CURRICULUM_ID = OpenApiParameter("curriculum_id", int, OpenApiParameter.PATH)


class CurriculumInput(serializers.Serializer):
    title = StrictCharField(max_length=200)
    description = StrictCharField(max_length=20000, required=False, allow_blank=True)
    price = serializers.IntegerField(min_value=0, max_value=100_000_000, required=False)
    is_published = serializers.BooleanField(required=False)
    course_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=100,
        required=False,
        help_text="The bundle, in order: each of your own courses once (staff: any course).",
    )


class CurriculumListCreateApi(ListAPIView):
    permission_classes = (IsTutorOrStaffOrReadOnly,)
    serializer_class = CurriculumSerializer

    def get_queryset(self):
        return selectors.curriculum_list(user=self.request.user)

    @extend_schema(operation_id="curriculums_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="curriculums_create",
        request=CurriculumInput,
        responses={201: CurriculumSerializer, **errors_of(TutorOrStaffOnly)},
    )
    def post(self, request):
        serializer = CurriculumInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        curriculum = services.curriculum_save(
            actor=request.user, data=data, course_ids=data.get("course_ids")
        )
        curriculum = selectors.curriculum_get(user=request.user, curriculum_id=curriculum.pk)
        return Response(CurriculumSerializer(curriculum).data, status=status.HTTP_201_CREATED)


class CurriculumDetailApi(APIView):
    permission_classes = (IsTutorOrStaffOrReadOnly, CanEditOrReadOnly)

    def get_curriculum(self, request, curriculum_id: int) -> Curriculum:
        """Another's draft is 404; writes to another's published curriculum 403."""
        curriculum = selectors.curriculum_get(user=request.user, curriculum_id=curriculum_id)
        self.check_object_permissions(request, curriculum)
        return curriculum

    @extend_schema(
        operation_id="curriculums_retrieve",
        parameters=[CURRICULUM_ID],
        responses={200: CurriculumSerializer},
    )
    def get(self, request, curriculum_id: int):
        return Response(CurriculumSerializer(self.get_curriculum(request, curriculum_id)).data)

    @extend_schema(
        operation_id="curriculums_update",
        parameters=[CURRICULUM_ID],
        request=CurriculumInput(partial=True),
        responses={200: CurriculumSerializer, **errors_of(TutorOrStaffOnly)},
    )
    def patch(self, request, curriculum_id: int):
        curriculum = self.get_curriculum(request, curriculum_id)
        serializer = CurriculumInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.curriculum_save(
            actor=request.user, curriculum=curriculum, data=data, course_ids=data.get("course_ids")
        )
        curriculum = selectors.curriculum_get(user=request.user, curriculum_id=curriculum.pk)
        return Response(CurriculumSerializer(curriculum).data)

    @extend_schema(
        operation_id="curriculums_delete",
        parameters=[CURRICULUM_ID],
        responses={204: None, **errors_of(TutorOrStaffOnly, CurriculumHasOrders)},
    )
    def delete(self, request, curriculum_id: int):
        curriculum = self.get_curriculum(request, curriculum_id)
        services.curriculum_delete(actor=request.user, curriculum=curriculum)
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Courses: the public list and outline, and their tutor's or staff's writes of the whole tree,
the editing view with the answers, and the thumbnail."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import FileTooLarge, InvalidImage
from core.images import ImageUploadParser
from core.openapi import CONDITIONAL_GET_PARAMETERS, NOT_MODIFIED, errors_of
from core.pagination import PageNumberPagination, page_data
from core.throttles import ImageUploadThrottle
from courses import catalogue_cache
from courses.apis.course_tree import CourseInput
from courses.errors import CourseHasEnrollments, CourseHasOrders, TutorOrStaffOnly
from courses.filters import CourseFilter
from courses.models import Course
from courses.permissions import CanEditOrReadOnly, IsTutorOrStaffOrReadOnly
from courses.selectors import catalogue as selectors
from courses.selectors.catalogue_sql import PageRequest, course_outline, published_page
from courses.serializers import (
    CourseDetailSerializer,
    CourseEditSerializer,
    CourseListItemSerializer,
)
from courses.services import catalogue as services

COURSE_ID = OpenApiParameter("course_id", int, OpenApiParameter.PATH)


def _course_detail(request, course: Course) -> dict:
    # The request makes the thumbnail URL absolute, as the list views (generic views) render it.
    return CourseDetailSerializer(course, context={"request": request}).data


class _CourseObjectApi(APIView):
    """Writes to one course: its tutor or staff (courses.permissions); another's draft is 404."""

    permission_classes = (IsTutorOrStaffOrReadOnly, CanEditOrReadOnly)

    def get_course(self, request, course_id: int) -> Course:
        course = selectors.course_tree(user=request.user, course_id=course_id)
        self.check_object_permissions(request, course)
        return course


def _published_page(request) -> dict | None:
    """A plain page of the published catalogue (only the list's parameters, each once and in its
    one spelling, with values the list accepts) from one hand-written statement; None for any
    other request, and for an empty page, which the generic list answers (404 past the end)."""
    if not catalogue_cache.keepable(request, catalogue_cache.LIST_PARAMETERS):
        return None
    query = request.query_params
    try:
        asked = PageRequest(
            category=query.get("category"),
            skill_level=query.get("skill_level"),
            ordering=query.get("ordering"),
            number=int(query.get("page", 1)),
            size=int(query.get("page_size", PageNumberPagination.page_size)),
        )
    except ValueError:
        return None
    courses, total = published_page(asked)
    if not courses:
        return None
    results = CourseListItemSerializer(courses, many=True, context={"request": request}).data
    return page_data(request, results, total=total, number=asked.number, size=asked.size)


class CourseListCreateApi(ListAPIView):
    permission_classes = (IsTutorOrStaffOrReadOnly,)
    serializer_class = CourseListItemSerializer
    filterset_class = CourseFilter

    def get_queryset(self):
        return selectors.course_list(user=self.request.user)

    @extend_schema(
        operation_id="courses_list",
        parameters=[*CONDITIONAL_GET_PARAMETERS],
        responses={200: CourseListItemSerializer(many=True), **NOT_MODIFIED},
    )
    def get(self, request, *args, **kwargs):
        """The published catalogue (with `mine=true`, the caller's own courses). Without `search`
        or `mine` the answer is the same for everyone and carries an `ETag`."""
        if request.query_params.get("mine") or "search" in request.query_params:
            return super().get(request, *args, **kwargs)

        def page() -> tuple[dict, bool]:
            data = _published_page(request)
            if data is None:
                data = super(CourseListCreateApi, self).get(request, *args, **kwargs).data
            return data, bool(data["results"])

        return catalogue_cache.answer(request, page, catalogue_cache.LIST_PARAMETERS)

    @extend_schema(
        operation_id="courses_create",
        request=CourseInput,
        responses={201: CourseDetailSerializer, **errors_of(TutorOrStaffOnly)},
    )
    def post(self, request):
        serializer = CourseInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_save(actor=request.user, data=serializer.validated_data)
        course = selectors.course_tree(user=request.user, course_id=course.pk)
        return Response(_course_detail(request, course), status=status.HTTP_201_CREATED)


class CourseDetailApi(_CourseObjectApi):
    @extend_schema(
        operation_id="courses_retrieve",
        parameters=[COURSE_ID, *CONDITIONAL_GET_PARAMETERS],
        responses={200: CourseDetailSerializer, **NOT_MODIFIED},
    )
    def get(self, request, course_id: int):
        """The public outline: the course and its tree of lectures and topics, with an `ETag`."""

        def outline() -> tuple[dict, bool]:
            course = course_outline(user=request.user, course_id=course_id)
            self.check_object_permissions(request, course)
            return _course_detail(request, course), course.is_published

        return catalogue_cache.answer(request, outline)

    def _save(self, request, course_id: int, *, partial: bool) -> Response:
        course = self.get_course(request, course_id)
        serializer = CourseInput(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.course_save(actor=request.user, course=course, data=serializer.validated_data)
        course = selectors.course_tree(user=request.user, course_id=course.pk)
        return Response(_course_detail(request, course))

    @extend_schema(
        operation_id="courses_replace",
        parameters=[COURSE_ID],
        request=CourseInput,
        responses={200: CourseDetailSerializer, **errors_of(TutorOrStaffOnly)},
    )
    def put(self, request, course_id: int):
        return self._save(request, course_id, partial=False)

    @extend_schema(
        operation_id="courses_update",
        parameters=[COURSE_ID],
        request=CourseInput(partial=True),
        responses={200: CourseDetailSerializer, **errors_of(TutorOrStaffOnly)},
    )
    def patch(self, request, course_id: int):
        return self._save(request, course_id, partial=True)

    @extend_schema(
        operation_id="courses_delete",
        parameters=[COURSE_ID],
        responses={
            204: None,
            **errors_of(TutorOrStaffOnly, CourseHasEnrollments, CourseHasOrders),
        },
    )
    def delete(self, request, course_id: int):
        services.course_delete(actor=request.user, course=self.get_course(request, course_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CourseEditApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="courses_edit_retrieve",
        parameters=[COURSE_ID],
        responses={200: CourseEditSerializer, **errors_of(TutorOrStaffOnly)},
    )
    def get(self, request, course_id: int):
        """The editing view (like WordPress's `context=edit`): the whole tree with the bodies and
        the answers (`is_correct`, `explanation`), in the shape PUT accepts, so an editor loads
        it, changes it and sends it back."""
        course = selectors.course_tree_for_editing(user=request.user, course_id=course_id)
        return Response(CourseEditSerializer(course).data)


class CourseThumbnailApi(_CourseObjectApi):
    parser_classes = (ImageUploadParser,)
    throttle_classes = (ImageUploadThrottle,)  # the upload (PUT), as on /api/images/

    class UploadSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="PNG, JPEG or WebP, judged by its content.")

    @extend_schema(
        operation_id="courses_thumbnail_set",
        parameters=[COURSE_ID],
        request={"multipart/form-data": UploadSerializer},
        responses={
            200: CourseDetailSerializer,
            **errors_of(TutorOrStaffOnly, InvalidImage, FileTooLarge),
        },
        description="Re-encoded like /api/images/: upright, metadata stripped, fitted in a box.",
    )
    def put(self, request, course_id: int):
        course = self.get_course(request, course_id)
        serializer = self.UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.course_thumbnail_set(
            actor=request.user, course=course, file=serializer.validated_data["file"]
        )
        return Response(_course_detail(request, course))

    @extend_schema(
        operation_id="courses_thumbnail_delete",
        parameters=[COURSE_ID],
        responses={204: None, **errors_of(TutorOrStaffOnly)},
    )
    def delete(self, request, course_id: int):
        course = self.get_course(request, course_id)
        services.course_thumbnail_set(actor=request.user, course=course, file=None)
        return Response(status=status.HTTP_204_NO_CONTENT)

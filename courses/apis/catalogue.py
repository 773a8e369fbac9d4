"""The catalogue: curriculums and courses (public reads, tutor/staff writes), studying a topic,
and the caller's enrollments."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from core.images import ImageUploadParser
from core.openapi import error_response
from core.serializers import MAX_ID, StrictCharField
from core.throttles import ImageUploadThrottle
from courses.apis.access import NOT_AUTHENTICATED, NOT_ENTITLED, topic_for_caller
from courses.apis.course_tree import TREE_INVALID, CourseInput
from courses.models import Course, Curriculum, Enrollment, SkillLevel, TopicType
from courses.selectors import catalogue as selectors
from courses.serializers import (
    CourseDetailSerializer,
    CourseEditSerializer,
    CourseListItemSerializer,
    CurriculumSerializer,
    EnrollmentSerializer,
    TopicContentSerializer,
)
from courses.services import catalogue as services
from courses.services.enrollments import topic_progress_record

COURSE_ID = OpenApiParameter("course_id", int, OpenApiParameter.PATH)
CURRICULUM_ID = OpenApiParameter("curriculum_id", int, OpenApiParameter.PATH)
TOPIC_ID = OpenApiParameter("topic_id", int, OpenApiParameter.PATH)


class IsTutorOrStaffOrReadOnly(BasePermission):
    """Anyone reads; tutors and staff write (whose object: checked by `owner_or_staff`)."""

    allows_anonymous_reads = True

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user.is_authenticated and (user.is_staff or user.role == Role.TUTOR))


class OwnerOrStaff(BasePermission):
    """Writes to a course or curriculum: its tutor or staff."""

    allows_anonymous_reads = True

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return request.user.is_staff or obj.tutor_id == request.user.pk


# --- Input ---------------------------------------------------------------------------------------


class CurriculumInput(serializers.Serializer):
    title = StrictCharField(max_length=200)
    description = StrictCharField(max_length=20000, required=False, allow_blank=True)
    price = serializers.IntegerField(min_value=0, max_value=100_000_000, required=False)
    is_published = serializers.BooleanField(required=False)
    course_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=100,
        required=False,
    )


# --- Courses ------------------------------------------------------------------------------------


class CourseFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(
        method="filter_search", max_length=100, help_text="Part of the title or descriptions."
    )
    category = django_filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    skill_level = django_filters.ChoiceFilter(choices=SkillLevel.choices)
    mine = django_filters.BooleanFilter(
        method="filter_mine", help_text="Tutors: the courses you teach, drafts included."
    )
    ordering = django_filters.OrderingFilter(fields=("price", "created_at"))

    def filter_search(self, queryset, name, value):
        return queryset.filter(
            Q(title__icontains=value)
            | Q(short_description__icontains=value)
            | Q(description__icontains=value)
        )

    def filter_mine(self, queryset, name, value):
        return queryset  # applied by the view, which knows the caller


def _tutor_for(request, data: dict):
    tutor = data.pop("tutor", None)
    return tutor if (tutor is not None and request.user.is_staff) else request.user


def _course_detail(request, course: Course) -> dict:
    # The request makes the thumbnail URL absolute, as the list views (generic views) render it.
    return CourseDetailSerializer(course, context={"request": request}).data


class CourseListCreateApi(ListAPIView):
    permission_classes = (IsTutorOrStaffOrReadOnly,)
    serializer_class = CourseListItemSerializer
    filterset_class = CourseFilter

    def get_queryset(self):
        mine = self.request.query_params.get("mine") in ("true", "True", "1")
        return selectors.course_list(user=self.request.user, mine=mine)

    @extend_schema(operation_id="courses_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="courses_create",
        request=CourseInput,
        responses={201: CourseDetailSerializer, 400: error_response(TREE_INVALID)},
    )
    def post(self, request):
        serializer = CourseInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        course = services.course_save(tutor=_tutor_for(request, data), data=data)
        course = selectors.course_tree(user=request.user, course_id=course.pk)
        return Response(_course_detail(request, course), status=status.HTTP_201_CREATED)


class CourseDetailApi(APIView):
    permission_classes = (IsTutorOrStaffOrReadOnly, OwnerOrStaff)

    def _course(self, request, course_id: int) -> Course:
        course = selectors.course_tree(user=request.user, course_id=course_id)
        self.check_object_permissions(request, course)
        return course

    @extend_schema(
        operation_id="courses_retrieve",
        parameters=[COURSE_ID],
        responses={200: CourseDetailSerializer},
    )
    def get(self, request, course_id: int):
        """The public outline: the course and its tree of lectures and topics."""
        return Response(_course_detail(request, self._course(request, course_id)))

    def _save(self, request, course_id: int, *, partial: bool) -> Response:
        course = self._course(request, course_id)
        serializer = CourseInput(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        tutor = data.pop("tutor", None)
        if tutor is not None and request.user.is_staff:
            course.tutor = tutor
        services.course_save(course=course, tutor=course.tutor, data=data)
        course = selectors.course_tree(user=request.user, course_id=course.pk)
        return Response(_course_detail(request, course))

    @extend_schema(
        operation_id="courses_replace",
        parameters=[COURSE_ID],
        request=CourseInput,
        responses={200: CourseDetailSerializer, 400: error_response(TREE_INVALID)},
    )
    def put(self, request, course_id: int):
        return self._save(request, course_id, partial=False)

    @extend_schema(
        operation_id="courses_update",
        parameters=[COURSE_ID],
        request=CourseInput(partial=True),
        responses={200: CourseDetailSerializer, 400: error_response(TREE_INVALID)},
    )
    def patch(self, request, course_id: int):
        return self._save(request, course_id, partial=True)

    @extend_schema(
        operation_id="courses_delete",
        parameters=[COURSE_ID],
        responses={
            204: None,
            409: error_response("`course_has_enrollments` or `course_has_orders`."),
        },
    )
    def delete(self, request, course_id: int):
        services.course_delete(course=self._course(request, course_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CourseEditApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="courses_edit_retrieve",
        parameters=[COURSE_ID],
        responses={
            200: CourseEditSerializer,
            403: error_response(
                "`permission_denied`: only the course's tutor and staff edit the course."
            ),
        },
    )
    def get(self, request, course_id: int):
        """The editing view (like WordPress's `context=edit`): the whole tree with the bodies and
        the answers (`is_correct`, `explanation`), in the shape PUT accepts, so an editor loads
        it, changes it and sends it back."""
        course = selectors.course_tree_for_editing(user=request.user, course_id=course_id)
        if not selectors.user_can_edit_course(request.user, course):
            self.permission_denied(
                request, message=_("Only the course's tutor or staff can edit this course.")
            )
        return Response(CourseEditSerializer(course).data)


class CourseThumbnailApi(APIView):
    permission_classes = (IsTutorOrStaffOrReadOnly, OwnerOrStaff)
    parser_classes = (ImageUploadParser,)
    throttle_classes = (ImageUploadThrottle,)  # the upload (PUT), as on /api/images/

    class UploadSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="PNG, JPEG or WebP, judged by its content.")

    def _course(self, request, course_id: int) -> Course:
        course = selectors.course_tree(user=request.user, course_id=course_id)
        self.check_object_permissions(request, course)
        return course

    @extend_schema(
        operation_id="courses_thumbnail_set",
        parameters=[COURSE_ID],
        request={"multipart/form-data": UploadSerializer},
        responses={
            200: CourseDetailSerializer,
            400: error_response("`invalid_image`: not a complete PNG, JPEG or WebP image."),
            413: error_response("`file_too_large`."),
        },
        description="Re-encoded like /api/images/: upright, metadata stripped, fitted in a box.",
    )
    def put(self, request, course_id: int):
        course = self._course(request, course_id)
        serializer = self.UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.course_thumbnail_set(course=course, file=serializer.validated_data["file"])
        return Response(_course_detail(request, course))

    @extend_schema(
        operation_id="courses_thumbnail_delete", parameters=[COURSE_ID], responses={204: None}
    )
    def delete(self, request, course_id: int):
        services.course_thumbnail_set(course=self._course(request, course_id), file=None)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Curriculums --------------------------------------------------------------------------------


def _courses_for_curriculum(request, course_ids: list[int] | None) -> list[Course] | None:
    if course_ids is None:
        return None
    courses = Course.objects.in_bulk(course_ids)
    missing = [pk for pk in course_ids if pk not in courses]
    foreign = [
        pk
        for pk, course in courses.items()
        if not request.user.is_staff and course.tutor_id != request.user.pk
    ]
    if missing or foreign or len(set(course_ids)) != len(course_ids):
        message = _("Name each of your own courses once: %(ids)s") % {"ids": missing + foreign}
        raise serializers.ValidationError({"course_ids": [message]})
    return [courses[pk] for pk in course_ids]


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
        responses={201: CurriculumSerializer},
    )
    def post(self, request):
        serializer = CurriculumInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        courses = _courses_for_curriculum(request, data.pop("course_ids", None))
        curriculum = services.curriculum_save(tutor=request.user, data=data, courses=courses)
        curriculum = selectors.curriculum_get(user=request.user, curriculum_id=curriculum.pk)
        return Response(CurriculumSerializer(curriculum).data, status=status.HTTP_201_CREATED)


class CurriculumDetailApi(APIView):
    permission_classes = (IsTutorOrStaffOrReadOnly, OwnerOrStaff)

    def _curriculum(self, request, curriculum_id: int) -> Curriculum:
        curriculum = selectors.curriculum_get(user=request.user, curriculum_id=curriculum_id)
        self.check_object_permissions(request, curriculum)
        return curriculum

    @extend_schema(
        operation_id="curriculums_retrieve",
        parameters=[CURRICULUM_ID],
        responses={200: CurriculumSerializer},
    )
    def get(self, request, curriculum_id: int):
        return Response(CurriculumSerializer(self._curriculum(request, curriculum_id)).data)

    @extend_schema(
        operation_id="curriculums_update",
        parameters=[CURRICULUM_ID],
        request=CurriculumInput(partial=True),
        responses={200: CurriculumSerializer},
    )
    def patch(self, request, curriculum_id: int):
        curriculum = self._curriculum(request, curriculum_id)
        serializer = CurriculumInput(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        courses = _courses_for_curriculum(request, data.pop("course_ids", None))
        services.curriculum_save(
            curriculum=curriculum, tutor=curriculum.tutor, data=data, courses=courses
        )
        curriculum = selectors.curriculum_get(user=request.user, curriculum_id=curriculum.pk)
        return Response(CurriculumSerializer(curriculum).data)

    @extend_schema(
        operation_id="curriculums_delete",
        parameters=[CURRICULUM_ID],
        responses={204: None, 409: error_response("`curriculum_has_orders`.")},
    )
    def delete(self, request, curriculum_id: int):
        services.curriculum_delete(curriculum=self._curriculum(request, curriculum_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Studying -----------------------------------------------------------------------------------


class TopicStudyApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="topics_retrieve",
        parameters=[TOPIC_ID],
        responses={
            200: TopicContentSerializer,
            401: error_response(f"{NOT_AUTHENTICATED} A preview topic needs none."),
            403: error_response(NOT_ENTITLED),
        },
    )
    def get(self, request, topic_id: int):
        topic = topic_for_caller(request, topic_id)
        topic.question_list = (
            selectors.topic_questions(topic=topic) if topic.type == TopicType.QUIZ else []
        )
        if request.user.is_authenticated:
            # Reading an article is what completing it means; other types complete elsewhere.
            topic_progress_record(
                user=request.user, topic=topic, completed=topic.type == TopicType.ARTICLE
            )
        return Response(TopicContentSerializer(topic).data)


class MyEnrollmentsApi(ListAPIView):
    permission_classes = (IsAuthenticated,)
    serializer_class = EnrollmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Enrollment.objects.none()
        return selectors.my_enrollments(user=self.request.user)

    @extend_schema(operation_id="me_enrollments")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

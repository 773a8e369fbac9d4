"""Assignment submissions: submitting and resubmitting, listing one's own (or, for the course's
tutor and staff, everyone's), and grading."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import FileTooLarge
from core.openapi import errors_of
from core.parsers import JSONParser
from core.serializers import StrictCharField
from courses.apis.access import topic_for_caller
from courses.apis.submission_files import SubmissionFileUrlField
from courses.errors import (
    AlreadyGraded,
    InvalidFile,
    NotAnAssignment,
    NotEntitled,
    TutorOrStaffOnly,
)
from courses.models import Submission
from courses.selectors.learning import submission_for_grading, submission_list
from courses.services.submissions import submission_grade, submission_submit

TOPIC_ID = OpenApiParameter("topic_id", int, OpenApiParameter.PATH)
SUBMISSION_ID = OpenApiParameter("submission_id", int, OpenApiParameter.PATH)
ALL_SUBMISSIONS = OpenApiParameter(
    "all",
    bool,
    OpenApiParameter.QUERY,
    required=False,
    description="`1`: every learner's submissions of the topic (the course's tutor and staff).",
)


class SubmitterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SubmissionOutputSerializer(serializers.ModelSerializer):
    user = SubmitterSerializer(read_only=True)
    file = SubmissionFileUrlField(help_text="GET it (owner, tutor, staff); null without a file.")

    class Meta:
        model = Submission
        fields = (
            "id",
            "topic",
            "user",
            "text",
            "file",
            "status",
            "grade",
            "feedback",
            "graded_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class TopicSubmissionsApi(ListAPIView):
    parser_classes = (MultiPartParser, JSONParser)
    serializer_class = SubmissionOutputSerializer
    queryset = Submission.objects.none()  # for the schema

    class InputSerializer(serializers.Serializer):
        text = StrictCharField(max_length=50000, required=False, allow_blank=True, default="")
        file = serializers.FileField(
            required=False, max_length=200, help_text="multipart/form-data only."
        )

    class TextInputSerializer(serializers.Serializer):
        text = StrictCharField(max_length=50000)

    class FilterSerializer(serializers.Serializer):
        all = serializers.BooleanField(required=False, default=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        topic = topic_for_caller(self.request, self.kwargs["topic_id"])
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return submission_list(
            user=self.request.user, topic=topic, every_learner=filters.validated_data["all"]
        )

    @extend_schema(
        operation_id="topics_submissions_list",
        parameters=[TOPIC_ID, ALL_SUBMISSIONS],
        responses={
            200: SubmissionOutputSerializer(many=True),
            **errors_of(NotEntitled, TutorOrStaffOnly),
        },
    )
    def get(self, request, *args, **kwargs):
        """The caller's own submission(s) for the topic; `all=1` for the course's tutor/staff."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="topics_submissions_create",
        parameters=[TOPIC_ID],
        request={
            "multipart/form-data": InputSerializer,
            "application/json": TextInputSerializer,
        },
        responses={
            201: SubmissionOutputSerializer,
            200: SubmissionOutputSerializer,
            **errors_of(NotEntitled, NotAnAssignment, InvalidFile, FileTooLarge, AlreadyGraded),
        },
    )
    def post(self, request, topic_id: int):
        """Submit text and/or a file (201); resubmitting before grading replaces both (200)."""
        topic = topic_for_caller(request, topic_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission, created = submission_submit(
            user=request.user, topic=topic, **serializer.validated_data
        )
        return Response(
            self.get_serializer(submission).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SubmissionGradeApi(APIView):
    class InputSerializer(serializers.Serializer):
        grade = serializers.IntegerField(
            min_value=0, max_value=100, required=False, help_text="Required for the first grade."
        )
        feedback = StrictCharField(max_length=20000, required=False, allow_blank=True)

    @extend_schema(
        operation_id="submissions_grade",
        parameters=[SUBMISSION_ID],
        request=InputSerializer,
        responses={200: SubmissionOutputSerializer, **errors_of(TutorOrStaffOnly)},
    )
    def patch(self, request, submission_id: int):
        submission = submission_for_grading(user=request.user, submission_id=submission_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = submission_grade(
            grader=request.user, submission=submission, **serializer.validated_data
        )
        return Response(SubmissionOutputSerializer(submission, context={"request": request}).data)

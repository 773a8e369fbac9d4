"""Quiz attempts, assignment submissions and grading (the learning rows of API.md's Courses)."""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import ApplicationError
from core.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.openapi import error_response
from core.parsers import JSONParser
from core.serializers import StrictCharField
from courses.apis.access import topic_for_caller
from courses.apis.submission_files import SubmissionFileUrlField
from courses.models import QuizAttempt, Submission
from courses.selectors import learning as selectors
from courses.selectors.enrollments import topic_for_study
from courses.services import learning as services

TOPIC_ID = OpenApiParameter("topic_id", int, OpenApiParameter.PATH)
SUBMISSION_ID = OpenApiParameter("submission_id", int, OpenApiParameter.PATH)
ALL_SUBMISSIONS = OpenApiParameter(
    "all",
    bool,
    OpenApiParameter.QUERY,
    required=False,
    description="`1`: every learner's submissions of the topic (the course's tutor and staff).",
)
NOT_ENTITLED = "`not_entitled`: enrol in the course first."
UNTIL_REVEALED = "null until the key is revealed (`key_revealed`)."
POSITIVE_ID = re.compile(r"[1-9][0-9]{0,17}")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": "Question id → the chosen choice id, for every question of the quiz.",
        "example": {"12": 40, "13": 45},
    }
)
class QuizAnswersField(serializers.Field):
    """{"<question id>": <choice id>}: keys are id strings (JSON keys always are), values integers
    and nothing else, with flat messages so the error envelope stays a list per field."""

    default_error_messages = {
        "not_an_object": _("Send an object of question id → choice id."),
        "bad_question": _("“%(question)s” is not a question id."),
        "bad_choice": _("The answer to question %(question)s must be a choice id (an integer)."),
    }

    def to_internal_value(self, data) -> dict[int, int]:
        if not isinstance(data, dict):
            self.fail("not_an_object")
        answers = {}
        for key, value in data.items():
            if not POSITIVE_ID.fullmatch(key):
                self._fail("bad_question", question=key[:20])
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                self._fail("bad_choice", question=key)
            answers[int(key)] = value
        return answers

    def _fail(self, key: str, **params) -> None:
        # Field.fail() fills in {name} placeholders; these messages use %(name)s like the rest.
        message = self.error_messages[key] % params
        raise serializers.ValidationError(message, code=key)

    def to_representation(self, value):
        return {str(key): choice for key, choice in value.items()}


class QuizAnswerResultSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    choice = serializers.IntegerField(help_text="The choice sent.")
    correct = serializers.BooleanField()
    correct_choices = serializers.ListField(
        child=serializers.IntegerField(), allow_null=True, help_text=UNTIL_REVEALED
    )
    explanation = serializers.CharField(allow_null=True, help_text=UNTIL_REVEALED)


class QuizAttemptOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="attempt.id")
    topic = serializers.IntegerField(source="attempt.topic_id")
    number = serializers.IntegerField(source="attempt.number", help_text="1 for the first.")
    score = serializers.FloatField(
        source="attempt.score", help_text="Percent answered correctly, one decimal."
    )
    correct = serializers.IntegerField(source="attempt.correct")
    total = serializers.IntegerField(source="attempt.total")
    passed = serializers.BooleanField(source="attempt.passed")
    pass_percent = serializers.IntegerField()
    attempts_left = serializers.IntegerField(
        allow_null=True, help_text="After this attempt; null: unlimited."
    )
    key_revealed = serializers.BooleanField(
        help_text="Whether `correct_choices` and `explanation` are shown: once the learner passed "
        "the quiz or used the last attempt."
    )
    results = QuizAnswerResultSerializer(
        many=True, help_text="One per question answered, in the quiz's current order."
    )
    created_at = serializers.DateTimeField(source="attempt.created_at")


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


class QuizAttemptCreateApi(GenericAPIView):
    """The caller's attempts at a quiz: take one (POST) or review them (GET)."""

    queryset = QuizAttempt.objects.none()  # for the schema

    class InputSerializer(serializers.Serializer):
        answers = QuizAnswersField()

    serializer_class = InputSerializer  # what OPTIONS describes

    @extend_schema(
        operation_id="topics_quiz_attempts_list",
        parameters=[TOPIC_ID],
        responses={
            200: QuizAttemptOutputSerializer(many=True),
            400: error_response("`not_a_quiz`."),
            403: error_response(NOT_ENTITLED),
        },
    )
    def get(self, request, topic_id: int):
        """The caller's own attempts, the latest first, each judged against the quiz as it is
        now; the correct choices and explanations once the caller passed or has no attempt left."""
        topic = topic_for_caller(request, topic_id)
        attempts = self.paginate_queryset(
            selectors.quiz_attempt_list(user=request.user, topic=topic)
        )
        reviewed = selectors.quiz_attempts_reviewed(
            user=request.user, topic=topic, attempts=attempts
        )
        return self.get_paginated_response(QuizAttemptOutputSerializer(reviewed, many=True).data)

    @extend_schema(
        operation_id="topics_quiz_attempts_create",
        parameters=[TOPIC_ID, IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: QuizAttemptOutputSerializer,
            400: error_response(
                "`validation_error` (a question missing or unknown, a choice of another "
                "question, wrong types) or `not_a_quiz`."
            ),
            403: error_response(NOT_ENTITLED),
            409: error_response(
                "`attempts_exhausted` (QUIZ_MAX_ATTEMPTS used), `quiz_empty`, "
                "`idempotency_key_reused` or `idempotency_request_in_progress`."
            ),
        },
    )
    @idempotent
    def post(self, request, topic_id: int):
        topic = topic_for_caller(request, topic_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        graded = services.quiz_attempt_create(
            user=request.user, topic=topic, answers=serializer.validated_data["answers"]
        )
        return Response(QuizAttemptOutputSerializer(graded).data, status=status.HTTP_201_CREATED)


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
        user = self.request.user
        topic = topic_for_study(user=user, topic_id=self.kwargs["topic_id"])
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if not filters.validated_data["all"]:
            return selectors.submission_list(topic=topic, user=user)
        if not selectors.user_can_grade(user, topic.lecture.course):
            raise ApplicationError(
                "permission_denied",
                _("Only the course's tutor or staff see every submission."),
                status.HTTP_403_FORBIDDEN,
            )
        return selectors.submission_list(topic=topic)

    @extend_schema(
        operation_id="topics_submissions_list",
        parameters=[TOPIC_ID, ALL_SUBMISSIONS],
        responses={
            200: SubmissionOutputSerializer(many=True),
            403: error_response(f"{NOT_ENTITLED} `permission_denied`: `all=1` by a learner."),
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
            400: error_response(
                "`validation_error` (neither text nor file), `invalid_file` (type or content) "
                "or `not_an_assignment`."
            ),
            403: error_response(NOT_ENTITLED),
            409: error_response("`already_graded`: a graded submission is final."),
            413: error_response("`file_too_large` (SUBMISSION_MAX_FILE_BYTES) or body too large."),
        },
    )
    def post(self, request, topic_id: int):
        """Submit text and/or a file (201); resubmitting before grading replaces both (200)."""
        topic = topic_for_study(user=request.user, topic_id=topic_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission, created = services.submission_submit(
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
        responses={
            200: SubmissionOutputSerializer,
            403: error_response("`permission_denied`: only the course's tutor or staff grade."),
            404: error_response("`not_found`: no such submission, or not one you can see."),
        },
    )
    def patch(self, request, submission_id: int):
        submission = selectors.submission_for_grading(
            user=request.user, submission_id=submission_id
        )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.submission_grade(
            grader=request.user, submission=submission, **serializer.validated_data
        )
        return Response(SubmissionOutputSerializer(submission, context={"request": request}).data)

"""Quiz attempts: taking one, graded on the server, and reviewing one's own (the key waits for a
pass or the last attempt)."""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.openapi import errors_of
from courses.apis.access import topic_for_caller
from courses.errors import AttemptsExhausted, NotAQuiz, NotEntitled, QuizEmpty
from courses.models import QuizAttempt
from courses.selectors.learning import quiz_attempt_list, quiz_attempts_reviewed
from courses.services.quizzes import quiz_attempt_create

TOPIC_ID = OpenApiParameter("topic_id", int, OpenApiParameter.PATH)
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
            **errors_of(NotEntitled, NotAQuiz),
        },
    )
    def get(self, request, topic_id: int):
        """The caller's own attempts, the latest first, each judged against the quiz as it is
        now; the correct choices and explanations once the caller passed or has no attempt left."""
        topic = topic_for_caller(request, topic_id)
        attempts = self.paginate_queryset(quiz_attempt_list(user=request.user, topic=topic))
        assert attempts is not None  # every list is paginated  # nosec B101
        reviewed = quiz_attempts_reviewed(user=request.user, topic=topic, attempts=attempts)
        return self.get_paginated_response(QuizAttemptOutputSerializer(reviewed, many=True).data)

    @extend_schema(
        operation_id="topics_quiz_attempts_create",
        parameters=[TOPIC_ID, IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: QuizAttemptOutputSerializer,
            **errors_of(NotEntitled, NotAQuiz, QuizEmpty, AttemptsExhausted),
        },
    )
    @idempotent
    def post(self, request, topic_id: int):
        topic = topic_for_caller(request, topic_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        graded = quiz_attempt_create(
            user=request.user, topic=topic, answers=serializer.validated_data["answers"]
        )
        return Response(QuizAttemptOutputSerializer(graded).data, status=status.HTTP_201_CREATED)

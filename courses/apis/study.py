"""Studying: a topic's content (reading it records nothing), opening it (which records the
learner's progress), and the caller's enrollments with their progress."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import errors_of
from courses.apis.access import topic_for_caller
from courses.errors import NotEntitled
from courses.models import Enrollment
from courses.selectors import catalogue as selectors
from courses.serializers import (
    EnrollmentSerializer,
    TopicContentSerializer,
    TopicProgressSerializer,
)
from courses.services.enrollments import topic_open

TOPIC_ID = OpenApiParameter("topic_id", int, OpenApiParameter.PATH)


class TopicStudyApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="topics_retrieve",
        parameters=[TOPIC_ID],
        responses={200: TopicContentSerializer, **errors_of(NotEntitled)},
    )
    def get(self, request, topic_id: int):
        """The content for an entitled caller (anyone for a preview topic). Reading records no
        progress: the client says the learner opened it with `POST /api/topics/{id}/open/`."""
        topic = selectors.topic_content(topic=topic_for_caller(request, topic_id))
        return Response(TopicContentSerializer(topic).data)


class TopicOpenApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="topics_open",
        parameters=[TOPIC_ID],
        request=None,
        responses={200: TopicProgressSerializer, **errors_of(NotEntitled)},
    )
    def post(self, request, topic_id: int):
        """The learner opened the topic: `last_opened_at` is now, and an article is completed
        (quizzes, assignments and videos complete when passed, submitted or watched). Send it
        when the topic is shown; sending it again only moves `last_opened_at`."""
        progress = topic_open(user=request.user, topic=topic_for_caller(request, topic_id))
        return Response(TopicProgressSerializer(progress).data)


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

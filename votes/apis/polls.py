"""Polls, votes, results and voters."""

from datetime import UTC, datetime

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from accounts.models import Part
from core.conditional import json_response, rendered
from core.idempotency import IDEMPOTENCY_HEADER, idempotent
from core.openapi import CONDITIONAL_GET_PARAMETERS, NOT_MODIFIED, errors_of
from core.permissions import IsStaffOrReadOnly
from core.serializers import MAX_ID, StrictCharField
from votes import selectors, services
from votes.errors import AlreadyVoted, BallotSecret, NotEligible, PollClosed, ResultsHidden
from votes.models import Ballot, PollKind, ResultsVisibility, Vote
from votes.results_cache import poll_results_payload
from votes.serializers import (
    PollDetailSerializer,
    PollListItemSerializer,
    PollSerializer,
    ResultsSerializer,
    VoterSerializer,
    VoteSerializer,
)

POLL_ID = OpenApiParameter("poll_id", int, OpenApiParameter.PATH)
CANDIDATE_ID = OpenApiParameter("candidate_id", int, OpenApiParameter.PATH)
# Before time zones settled (Seoul: 1908) local times have offsets in seconds ("+08:27:52"),
# which no RFC 3339 date-time allows; and no poll is that old.
EARLIEST_POLL_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def poll_time_check(value: datetime) -> None:
    if value < EARLIEST_POLL_TIME:
        raise serializers.ValidationError(_("Choose a time in the year 2000 or later."))


class PollFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=PollKind.choices)
    part = django_filters.ChoiceFilter(choices=Part.choices)
    state = django_filters.ChoiceFilter(
        choices=[("upcoming", "upcoming"), ("open", "open"), ("closed", "closed")],
        method="filter_state",
        help_text="upcoming, open (voting now) or closed.",
    )

    def filter_state(self, queryset, name, value):
        return selectors.polls_in_state(queryset, state=value)


class PollListCreateApi(ListAPIView):
    permission_classes = (IsStaffOrReadOnly,)
    serializer_class = PollListItemSerializer
    filterset_class = PollFilter

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=PollKind.choices)
        title = StrictCharField(max_length=120)
        description = StrictCharField(max_length=5000, required=False, allow_blank=True)
        part = serializers.ChoiceField(choices=Part.choices, required=False, allow_blank=True)
        opens_at = serializers.DateTimeField(
            validators=[poll_time_check], help_text="From 2000 on."
        )
        closes_at = serializers.DateTimeField(validators=[poll_time_check])
        results_visibility = serializers.ChoiceField(
            choices=ResultsVisibility.choices, required=False
        )
        ballot = serializers.ChoiceField(choices=Ballot.choices, required=False)

    def get_queryset(self):
        return selectors.poll_list()

    @extend_schema(operation_id="polls_list")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="polls_create", request=InputSerializer, responses={201: PollSerializer}
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        poll = services.poll_create(created_by=request.user, **serializer.validated_data)
        return Response(PollSerializer(poll).data, status=status.HTTP_201_CREATED)


class PollDetailApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="polls_retrieve", parameters=[POLL_ID], responses={200: PollDetailSerializer}
    )
    def get(self, request, poll_id: int):
        poll = selectors.poll_detail(poll_id=poll_id, user=request.user)
        return Response(PollDetailSerializer(poll).data)


class VoteCastApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        candidate = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    @extend_schema(
        operation_id="polls_votes_create",
        parameters=[POLL_ID, IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={
            201: VoteSerializer,
            **errors_of(NotEligible, AlreadyVoted, PollClosed),
        },
    )
    @idempotent
    def post(self, request, poll_id: int):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vote = services.vote_cast(
            voter=request.user,
            poll_id=poll_id,
            candidate_id=serializer.validated_data["candidate"],
            ip=BaseThrottle().get_ident(request) or None,
        )
        return Response(VoteSerializer(vote).data, status=status.HTTP_201_CREATED)


class PollResultsApi(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="polls_results",
        parameters=[POLL_ID, *CONDITIONAL_GET_PARAMETERS],
        responses={200: ResultsSerializer, **NOT_MODIFIED, **errors_of(ResultsHidden)},
    )
    def get(self, request, poll_id: int):
        body, etag = rendered(poll_results_payload(poll_id=poll_id, user=request.user))
        return json_response(request, body, etag)


class CandidateVotersApi(ListAPIView):
    permission_classes = (AllowAny,)
    serializer_class = VoterSerializer
    queryset = Vote.objects.none()  # for the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.candidate_voters(
            poll_id=self.kwargs["poll_id"],
            candidate_id=self.kwargs["candidate_id"],
            user=self.request.user,
        )

    @extend_schema(
        operation_id="polls_candidates_voters",
        parameters=[POLL_ID, CANDIDATE_ID],
        responses={
            200: VoterSerializer(many=True),
            **errors_of(BallotSecret, ResultsHidden),
        },
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

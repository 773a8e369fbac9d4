"""Candidacies: standing, entering a team, and nominations that wait for the nominee's consent."""

from typing import cast

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import CustomUser, Team
from core.openapi import errors_of
from core.serializers import StrictCharField, StrictPrimaryKeyRelatedField
from votes import selectors, services
from votes.apis.polls import CANDIDATE_ID, POLL_ID
from votes.errors import (
    CandidateExists,
    NominationAnswered,
    NotEligible,
    NotTeamMember,
    PollClosed,
)
from votes.models import Candidate
from votes.serializers import CandidateSerializer, NominationSerializer


class CandidateCreateApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        name = StrictCharField(
            max_length=80,
            required=False,
            allow_blank=True,
            help_text="Required in general polls; defaults to the person's or team's name.",
        )
        pitch = StrictCharField(max_length=2000, required=False, allow_blank=True)
        user = StrictPrimaryKeyRelatedField(
            queryset=CustomUser.objects.filter(is_active=True),
            required=False,
            help_text="Part-leader polls: the member standing (default: the caller).",
        )
        team = StrictPrimaryKeyRelatedField(
            queryset=Team.objects.all(), required=False, help_text="Team polls: the team standing."
        )

    @extend_schema(
        operation_id="polls_candidates_create",
        parameters=[POLL_ID],
        request=InputSerializer,
        responses={
            201: CandidateSerializer,
            **errors_of(NotTeamMember, CandidateExists, PollClosed),
        },
        description=(
            "Stand yourself (part-leader polls), enter your team (team polls) or name a candidate "
            "(general polls): `status` is `standing`. Naming another person makes a nomination "
            "(`status` `nominated`): it is not public and takes no votes until that person "
            "accepts it (POST .../accept/). Staff register anyone as standing."
        ),
    )
    def post(self, request, poll_id: int):
        poll = selectors.poll_get(poll_id=poll_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        candidate = services.candidate_register(
            registered_by=request.user, poll=poll, **serializer.validated_data
        )
        return Response(CandidateSerializer(candidate).data, status=status.HTTP_201_CREATED)


class NominationListApi(ListAPIView):
    permission_classes = (IsAuthenticated,)
    serializer_class = NominationSerializer
    queryset = Candidate.objects.none()  # for the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        # IsAuthenticated: never the anonymous user.
        return selectors.nominations_pending(user=cast(CustomUser, self.request.user))

    @extend_schema(operation_id="me_nominations_list")
    def get(self, request, *args, **kwargs):
        """Nominations of the caller waiting for their answer."""
        return super().get(request, *args, **kwargs)


class NominationAcceptApi(APIView):
    permission_classes = (IsAuthenticated,)

    class InputSerializer(serializers.Serializer):
        pitch = StrictCharField(
            max_length=2000,
            required=False,
            allow_blank=True,
            help_text="Your own words; omit to keep the nominator's.",
        )

    @extend_schema(
        operation_id="polls_candidates_accept",
        parameters=[POLL_ID, CANDIDATE_ID],
        request=InputSerializer,
        responses={
            200: CandidateSerializer,
            **errors_of(NotEligible, PollClosed),
        },
    )
    def post(self, request, poll_id: int, candidate_id: int):
        """The nominee agrees to stand: the candidate becomes public and can receive votes.
        Someone else's nomination is 404; a nominee not of the poll's part is refused."""
        poll = selectors.poll_get(poll_id=poll_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        candidate = services.nomination_accept(
            user=request.user,
            poll=poll,
            candidate_id=candidate_id,
            pitch=serializer.validated_data.get("pitch"),
        )
        return Response(CandidateSerializer(candidate).data)


class NominationDeclineApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="polls_candidates_decline",
        parameters=[POLL_ID, CANDIDATE_ID],
        request=None,
        responses={
            200: CandidateSerializer,
            **errors_of(NominationAnswered),
        },
    )
    def post(self, request, poll_id: int, candidate_id: int):
        """The nominee refuses; the nomination and its pitch never become public. Someone else's
        nomination is 404."""
        poll = selectors.poll_get(poll_id=poll_id)
        candidate = services.nomination_decline(
            user=request.user, poll=poll, candidate_id=candidate_id
        )
        return Response(CandidateSerializer(candidate).data)

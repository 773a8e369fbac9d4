"""Output shapes of the voting endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import CustomUser
from accounts.serializers import TeamSerializer
from votes.models import Candidate, CandidateStatus, Poll, Vote

_DATETIME = serializers.DateTimeField()


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomUser
        fields = ("id", "username", "name", "part")
        read_only_fields = fields
        # DRF drops allow_blank from read-only fields; "" (no part chosen) must stay in the schema.
        extra_kwargs = {"part": {"allow_blank": True}}


class PollSerializer(serializers.ModelSerializer):
    state = serializers.SerializerMethodField()

    class Meta:
        model = Poll
        fields: tuple[str, ...] = (
            "id",
            "kind",
            "title",
            "description",
            "part",
            "opens_at",
            "closes_at",
            "results_visibility",
            "ballot",
            "state",
            "created_at",
        )
        read_only_fields = fields
        # DRF drops allow_blank from read-only fields; polls other than part-leader have part "".
        extra_kwargs = {"part": {"allow_blank": True}}

    @extend_schema_field(serializers.ChoiceField(choices=["upcoming", "open", "closed"]))
    def get_state(self, poll: Poll) -> str:
        if poll.has_closed():
            return "closed"
        return "open" if poll.is_open() else "upcoming"


class PollListItemSerializer(PollSerializer):
    candidate_count = serializers.IntegerField(read_only=True)

    class Meta(PollSerializer.Meta):
        fields = (*PollSerializer.Meta.fields, "candidate_count")
        read_only_fields = fields


class CandidateSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True, allow_null=True)
    team = TeamSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Candidate
        fields: tuple[str, ...] = ("id", "name", "pitch", "user", "team", "status", "created_at")
        read_only_fields = fields

    def to_representation(self, candidate: Candidate) -> dict:
        data = super().to_representation(candidate)
        if candidate.status != CandidateStatus.STANDING and data["user"]:
            # Who named them learns nothing of their part: it is shown once they stand.
            data["user"].pop("part", None)
        return data


class NominationSerializer(CandidateSerializer):
    poll = PollSerializer(read_only=True)

    class Meta(CandidateSerializer.Meta):
        fields = (*CandidateSerializer.Meta.fields, "poll")
        read_only_fields = fields


class MyVoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vote
        fields = ("candidate", "cast_at")
        read_only_fields = fields


class PollDetailSerializer(PollSerializer):
    candidates = CandidateSerializer(many=True, read_only=True, source="candidate_list")
    my_vote = MyVoteSerializer(
        read_only=True, allow_null=True, help_text="The caller's vote; null if none or anonymous."
    )

    class Meta(PollSerializer.Meta):
        fields = (*PollSerializer.Meta.fields, "candidates", "my_vote")
        read_only_fields = fields


class ResultSerializer(serializers.ModelSerializer):
    votes = serializers.IntegerField(source="vote_count", read_only=True)
    team = TeamSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Candidate
        fields = ("id", "name", "user", "team", "votes")
        read_only_fields = fields


class ResultsSerializer(serializers.Serializer):
    poll = PollSerializer()
    total_votes = serializers.IntegerField()
    candidates = ResultSerializer(many=True)


class VoterSerializer(serializers.ModelSerializer):
    voter = PersonSerializer(read_only=True)

    class Meta:
        model = Vote
        fields = ("voter", "cast_at")
        read_only_fields = fields


class VoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vote
        fields = ("id", "poll", "candidate", "cast_at")
        read_only_fields = fields

    def to_representation(self, vote: Vote) -> dict:
        # Written out: building the fields cost more than the vote's own queries.
        return {
            "id": vote.pk,
            "poll": vote.poll_id,
            "candidate": vote.candidate_id,
            "cast_at": _DATETIME.to_representation(vote.cast_at),
        }

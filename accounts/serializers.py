"""Output shapes shared by the accounts endpoints (and by other apps that show a user)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.auth.cache import user_contributions
from accounts.identity import EMAIL_MAX_LENGTH, email_canonical_or_none, username_display
from accounts.models import (
    AuthSession,
    CustomUser,
    Team,
    username_script_validator,
    username_validator,
)
from accounts.registry import current_user_schema_fields
from core.serializers import StrictCharField, datetime_text


class UsernameField(StrictCharField):
    """NFKC-normalised, so full-width letters count as the ASCII letters they look like; one
    script, no look-alikes (accounts.identity)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("max_length", 30)
        super().__init__(validators=[username_validator, username_script_validator], **kwargs)

    def to_internal_value(self, data):
        return username_display(super().to_internal_value(data))


class StaffAssignedFieldsRefused(serializers.Serializer):
    """A serializer base: `part` and `team` decide who votes in which poll, so a user's own
    request may not set them (staff do: PATCH /api/users/{id}/)."""

    staff_assigned_fields = ("part", "team")

    def validate(self, attrs):
        sent = getattr(self, "initial_data", None) or {}
        refused = [field for field in self.staff_assigned_fields if field in sent]
        if refused:
            message = _("Your part and team are assigned by staff.")
            raise serializers.ValidationError({field: [message] for field in refused})
        return super().validate(attrs)


class CanonicalEmailField(serializers.EmailField):
    """An email in its one canonical form: NFKC, lowercase ASCII mailbox, IDNA domain."""

    default_error_messages = {"invalid": _("Enter a valid email address.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        raw = super(serializers.EmailField, self).to_internal_value(data)
        canonical = email_canonical_or_none(raw)
        if canonical is None:
            self.fail("invalid")
        return canonical


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ("id", "name", "description")

    def to_representation(self, team: Team) -> dict:
        return _team_data(team)


def _team_data(team: Team) -> dict:
    # Written out: DRF building fields per instance cost more than the rest of /users/me/.
    return {"id": team.pk, "name": team.name, "description": team.description}


class UserSerializer(serializers.ModelSerializer):
    """Declared fields describe the schema; to_representation renders them without the machinery
    (accounts/tests/test_serializers.py holds the two to the same output)."""

    team = TeamSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CustomUser
        fields = (
            "id",
            "email",
            "username",
            "name",
            "role",
            "part",
            "team",
            "introduction",
            "phone",
            "is_staff",
            "date_joined",
        )
        read_only_fields = fields
        # DRF drops allow_blank from read-only fields; "" (no part chosen) must stay in the schema.
        extra_kwargs = {"part": {"allow_blank": True}}

    def to_representation(self, user: CustomUser) -> dict:
        team = user.team
        return {
            "id": user.pk,
            "email": user.email,
            "username": user.username,
            "name": user.name,
            "role": user.role,
            "part": user.part,
            "team": _team_data(team) if team else None,
            "introduction": user.introduction,
            "phone": user.phone,
            "is_staff": user.is_staff,
            "date_joined": datetime_text(user.date_joined),
        }


class CurrentUserSerializer(UserSerializer):
    """The caller's own user: UserSerializer plus the fields other apps registered."""

    def get_fields(self):
        return {**super().get_fields(), **current_user_schema_fields()}

    def to_representation(self, user: CustomUser) -> dict:
        return {**super().to_representation(user), **user_contributions(user)}


class AuthSessionSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthSession
        fields = ("id", "created_at", "last_used_at", "expires_at", "user_agent", "ip", "current")
        read_only_fields = fields

    def get_current(self, session: AuthSession) -> bool:
        return str(session.pk) == self.context.get("current_session_id")


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(
        required=False, help_text="Absent in cookie mode: the refresh token is in a cookie."
    )


class SessionResponseSerializer(TokenPairSerializer):
    user = CurrentUserSerializer()

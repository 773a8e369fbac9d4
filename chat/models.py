"""Rooms, their members and messages, friendships and blocks, reports, and socket tickets.

PostgreSQL is the source of truth: a message exists once it is committed with its room's next
`seq`; the channel layer only carries news of it (chat.broadcast).
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel

BODY_MAX_LENGTH = 4000
CLIENT_MSG_ID_MAX_LENGTH = 64
TITLE_MAX_LENGTH = 100


class RoomKind(models.TextChoices):
    DIRECT = "direct", _("direct")
    GROUP = "group", _("group")
    COURSE = "course", _("course")


class Room(TimeStampedModel):
    kind = models.CharField(_("kind"), max_length=10, choices=RoomKind.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH, blank=True)
    # Course rooms: the course whose learners are the members (courses' entitlement rule).
    course = models.OneToOneField(
        "courses.Course", on_delete=models.CASCADE, null=True, blank=True, related_name="chat_room"
    )
    # Direct rooms: "<smaller user id>:<larger user id>", so a pair has one room.
    direct_key = models.CharField(max_length=41, null=True, blank=True, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The seq of the room's latest message; the next one gets last_seq + 1 under the row's lock.
    last_seq = models.PositiveBigIntegerField(_("last seq"), default=0)

    class Meta:
        ordering = ("-updated_at",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=RoomKind.COURSE, course__isnull=False)
                | models.Q(~models.Q(kind=RoomKind.COURSE), course__isnull=True),
                name="chat_room_course_iff_course_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=RoomKind.DIRECT, direct_key__isnull=False)
                | models.Q(~models.Q(kind=RoomKind.DIRECT), direct_key__isnull=True),
                name="chat_room_direct_key_iff_direct_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=RoomKind.values), name="chat_room_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.kind} #{self.pk}"


class MemberRole(models.TextChoices):
    MEMBER = "member", _("member")
    MODERATOR = "moderator", _("moderator")


class Membership(models.Model):
    """A member of a direct or group room. In a course room access follows entitlement
    (chat.access); a row there only keeps the learner's read marker and mute."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_memberships"
    )
    role = models.CharField(
        _("role"), max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER
    )
    last_read_seq = models.PositiveBigIntegerField(_("last read seq"), default=0)
    muted_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("joined_at", "pk")
        constraints = [
            models.UniqueConstraint(fields=("room", "user"), name="chat_membership_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=MemberRole.values), name="chat_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class Message(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField(_("seq"))
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="chat_messages",
    )
    # Chosen by the client for each message it sends: a retry with the same id is the same send.
    client_msg_id = models.CharField(max_length=CLIENT_MSG_ID_MAX_LENGTH)
    body = models.TextField(_("body"), max_length=BODY_MAX_LENGTH, blank=True)
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(_("edited at"), null=True, blank=True)
    # A tombstone: the body is gone, the seq stays so that the sequence has no gap.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        ordering = ("room", "seq")
        constraints = [
            models.UniqueConstraint(fields=("room", "seq"), name="chat_message_room_seq_unique"),
            models.UniqueConstraint(
                fields=("sender", "client_msg_id"), name="chat_message_sender_client_id_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(seq__gte=1), name="chat_message_seq_positive"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(deleted_at__isnull=True)
                    & models.Q(GreaterThanOrEqual(Length("body"), 1))
                    & models.Q(LessThanOrEqual(Length("body"), BODY_MAX_LENGTH))
                )
                | models.Q(deleted_at__isnull=False, body=""),
                name="chat_message_body_length_or_tombstone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class FriendRequestStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    CANCELLED = "cancelled", _("cancelled")


class FriendRequest(models.Model):
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="friend_requests_sent"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="friend_requests_received"
    )
    status = models.CharField(
        max_length=10, choices=FriendRequestStatus.choices, default=FriendRequestStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("from_user", "to_user"),
                condition=models.Q(status=FriendRequestStatus.PENDING),
                name="chat_friend_request_one_pending",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_user=models.F("to_user")),
                name="chat_friend_request_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_user_id} -> {self.to_user_id} ({self.status})"


class Friendship(models.Model):
    """One row per pair, smaller id first."""

    user_low = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    user_high = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("user_low", "user_high"), name="chat_friendship_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(user_low__lt=models.F("user_high")),
                name="chat_friendship_ordered_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_low_id} <-> {self.user_high_id}"


class Block(models.Model):
    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_blocks"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("blocker", "blocked"), name="chat_block_unique"),
            models.CheckConstraint(
                condition=~models.Q(blocker=models.F("blocked")), name="chat_block_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class ReportReason(models.TextChoices):
    SPAM = "spam", _("spam")
    ABUSE = "abuse", _("abuse or harassment")
    INAPPROPRIATE = "inappropriate", _("inappropriate content")
    OTHER = "other", _("other")


class ReportStatus(models.TextChoices):
    OPEN = "open", _("open")
    ACTIONED = "actioned", _("actioned")
    DISMISSED = "dismissed", _("dismissed")


class MessageReport(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_reports"
    )
    reason = models.CharField(_("reason"), max_length=15, choices=ReportReason.choices)
    detail = models.TextField(_("detail"), max_length=1000, blank=True)
    # The body as reported: a later edit or deletion must not hide what was reported.
    body_snapshot = models.TextField(blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(fields=("message", "reporter"), name="chat_report_once"),
        ]

    def __str__(self) -> str:
        return f"report {self.pk} on {self.message_id}"


class SocketTicket(models.Model):
    """A single-use pass to open one socket (POST /api/chat/ws-ticket/): bound to the user and the
    login session that asked for it, valid for CHAT_TICKET_SECONDS. Only its hash is stored."""

    digest = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey("accounts.AuthSession", on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ticket {self.pk} for {self.user_id}"


class Connection(models.Model):
    """A socket open now, on some instance: what presence and the per-user socket limit count.
    `seen_at` is refreshed every ping interval; a row older than two is a socket whose instance
    died, and is not counted (then purged)."""

    channel_name = models.CharField(max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_connections"
    )
    session = models.ForeignKey("accounts.AuthSession", on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=("user", "seen_at"))]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.channel_name}"

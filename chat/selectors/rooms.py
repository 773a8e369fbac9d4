"""Rooms and messages as read: a user's rooms with their unread counts and last messages, a
room's history by seq, what a socket subscribes to."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from chat.access import course_rooms_of, room_for, rooms_of
from chat.models import Membership, Message, Room, RoomKind
from courses.selectors.enrollments import NEVER, active_enrollment_per_course

MESSAGES_MAX_LIMIT = 100


def room_list(user) -> QuerySet[Room]:
    """The user's rooms, latest activity first, each with the user's `last_read_seq`,
    `unread_count`, `my_role` (None in a course room without a row) and `my_muted_until` (None
    unless muted now); direct rooms with their two members (for the other's name). Constant
    queries per page."""
    membership = Membership.objects.filter(room=OuterRef("pk"), user=user)
    muted = membership.filter(muted_until__gt=timezone.now()).values("muted_until")[:1]
    return (
        rooms_of(user)
        .select_related("course")
        .annotate(
            last_read_seq=Coalesce(Subquery(membership.values("last_read_seq")[:1]), Value(0)),
            my_role=Subquery(membership.values("role")[:1]),
            my_muted_until=Subquery(muted),
        )
        .annotate(unread_count=Greatest(F("last_seq") - F("last_read_seq"), Value(0)))
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(room__kind=RoomKind.DIRECT).select_related(
                    "user"
                ),
                to_attr="direct_members",
            )
        )
        .order_by("-updated_at", "-pk")
    )


def last_messages(rooms) -> dict[int, Message]:
    """Each room's latest message, in one query."""
    room_ids = [room.pk for room in rooms if room.last_seq]
    if not room_ids:
        return {}
    latest = Message.objects.select_related("sender").filter(
        room_id__in=room_ids, seq=F("room__last_seq")
    )
    return {message.room_id: message for message in latest}


def room_detail(*, user, room_id: int) -> Room:
    """One room of the user's, annotated as in room_list (RoomNotFound, NotEntitled)."""
    room_for(user=user, room_id=room_id)
    return room_list(user).get(pk=room_id)


def messages_page(
    *, user, room_id: int, before_seq: int | None = None, after_seq: int | None = None,
    limit: int = 50,
) -> tuple[list[Message], bool]:  # fmt: skip
    """Up to `limit` messages in seq order: the latest ones, those before `before_seq`, or those
    after `after_seq`; and whether more lie beyond in that direction. Two queries."""
    room = room_for(user=user, room_id=room_id)
    limit = max(1, min(limit, MESSAGES_MAX_LIMIT))
    messages = Message.objects.select_related("sender").filter(room=room)
    if after_seq is not None:
        page = list(messages.filter(seq__gt=after_seq).order_by("seq")[: limit + 1])
        return page[:limit], len(page) > limit
    if before_seq is not None:
        messages = messages.filter(seq__lt=before_seq)
    page = list(messages.order_by("-seq")[: limit + 1])
    return list(reversed(page[:limit])), len(page) > limit


def messages_after(*, room_id: int, after_seq: int, up_to: int | None, limit: int) -> list[Message]:
    """For a socket that may already use the room: messages after `after_seq` (to `up_to`)."""
    messages = Message.objects.select_related("sender").filter(room_id=room_id, seq__gt=after_seq)
    if up_to is not None:
        messages = messages.filter(seq__lte=up_to)
    return list(messages.order_by("seq")[:limit])


def room_last_seq(*, room_id: int) -> int:
    return Room.objects.filter(pk=room_id).values_list("last_seq", flat=True).first() or 0


def rooms_last_seqs(*, room_ids) -> dict[int, int]:
    """Each room's last seq, in one query (a socket's heartbeat)."""
    return dict(Room.objects.filter(pk__in=list(room_ids)).values_list("pk", "last_seq"))


@dataclass(frozen=True)
class SocketRoom:
    last_seq: int
    # When the user's access ends by itself (a course grant's expiry), else None.
    access_ends_at: datetime | None


def socket_rooms(user) -> dict[int, SocketRoom]:
    """The rooms a socket of `user` subscribes to now, in two queries."""
    rooms = dict(rooms_of(user).values_list("pk", "last_seq"))
    expiries: dict[int, datetime] = {}
    if not user.is_staff:
        enrolled = course_rooms_of(user).exclude(course__tutor=user).values_list("pk", "course_id")
        course_to_room = {course_id: room_id for room_id, course_id in enrolled}
        if course_to_room:
            grants = active_enrollment_per_course(user=user).filter(
                course_id__in=list(course_to_room)
            )
            for course_id, expires_at in grants.values_list("course_id", "expires_at"):
                if expires_at is not None and expires_at < NEVER:
                    expiries[course_to_room[course_id]] = expires_at
    return {
        room_id: SocketRoom(last_seq=last_seq, access_ends_at=expiries.get(room_id))
        for room_id, last_seq in rooms.items()
    }

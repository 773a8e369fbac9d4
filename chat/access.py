"""Who may be in which room. Direct and group rooms: their members. A course room: exactly those
who may study the course (courses' own entitlement rule, asked on every use, so a refund or an
expiry takes effect at once), its tutor and staff as moderators."""

from typing import TypeVar, cast

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from chat.errors import RoomNotFound
from chat.models import MemberRole, Membership, Room, RoomKind
from courses.errors import NotEntitled
from courses.models import Course
from courses.selectors.enrollments import (
    active_enrollments,
    course_is_visible,
    user_can_study_course,
)

M = TypeVar("M", bound=Model)


def course_rooms_of(user) -> QuerySet[Room]:
    """The course rooms `user` may use now."""
    rooms = Room.objects.filter(kind=RoomKind.COURSE)
    if user.is_staff:
        return rooms
    enrolled = active_enrollments().filter(user=user).values("course_id")
    return rooms.filter(
        Q(course__tutor=user) | Q(course_id__in=enrolled, course__is_published=True)
    )


def rooms_of(user) -> QuerySet[Room]:
    """Every room `user` may read and write in now, in one query."""
    member_of = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Room.objects.filter(
        Q(Exists(member_of), kind__in=(RoomKind.DIRECT, RoomKind.GROUP))
        | Q(pk__in=course_rooms_of(user).values("pk"))
    )


def room_ids_of(user) -> set[int]:
    return set(rooms_of(user).values_list("pk", flat=True))


def unique_or_none(queryset: QuerySet[M]) -> M | None:
    """The one row of a lookup by a unique key, or None: .first() without the ORDER BY it adds
    (on the send path, compiling those cost as much CPU as a query)."""
    try:
        return queryset.get()
    except ObjectDoesNotExist:  # the model's DoesNotExist
        return None


def _course_access_check(*, user, room: Room) -> None:
    """A course room only for those who may study it (RoomNotFound, NotEntitled)."""
    if room.kind == RoomKind.COURSE:
        course = _course_of(room)
        if not course_is_visible(user, course):
            raise RoomNotFound()
        if not user_can_study_course(user, course):
            raise NotEntitled()


def _room_with_course_access(*, user, room_id: int, for_update: bool) -> Room:
    """The room; for a course room, only if `user` may study it (RoomNotFound, NotEntitled)."""
    rooms = Room.objects.select_related("course")
    if for_update:
        rooms = rooms.select_for_update(of=("self",))
    room = unique_or_none(rooms.filter(pk=room_id))
    if room is None:
        raise RoomNotFound()
    _course_access_check(user=user, room=room)
    return room


def room_for(*, user, room_id: int, for_update: bool = False) -> Room:
    """The room, if `user` may use it now: RoomNotFound for a room that is not theirs (nothing
    about it is revealed), NotEntitled for a course room they may see but not study."""
    room = _room_with_course_access(user=user, room_id=room_id, for_update=for_update)
    if room.kind != RoomKind.COURSE and not room.memberships.filter(user=user).exists():
        raise RoomNotFound()
    return room


def room_and_membership_for(
    *, user, room_id: int, for_update: bool = False
) -> tuple[Room, Membership | None]:
    """As room_for, with the user's membership row (None in a course room they have not used
    yet): what sending needs (mute, read marker). A member's row and the room (locked with
    `for_update`) come in one query."""
    memberships = Membership.objects.select_related("room__course").filter(
        room_id=room_id, user=user
    )
    if for_update:
        memberships = memberships.select_for_update(of=("room",))
    membership = unique_or_none(memberships)
    if membership is None:
        room = _room_with_course_access(user=user, room_id=room_id, for_update=for_update)
        if room.kind != RoomKind.COURSE:
            raise RoomNotFound()
        return room, None
    _course_access_check(user=user, room=membership.room)
    return membership.room, membership


def _course_of(room: Room) -> Course:
    """A course room's course (a constraint makes it present)."""
    return cast(Course, room.course)


def is_moderator(*, user, room: Room) -> bool:
    if room.kind == RoomKind.COURSE:
        return user.is_staff or _course_of(room).tutor_id == user.pk
    return Membership.objects.filter(room=room, user=user, role=MemberRole.MODERATOR).exists()

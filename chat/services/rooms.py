"""Rooms and their members: group rooms made by a user with friends, the one direct room of two
friends, the one room of each course, members added and removed by moderators, leaving, muting."""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat import broadcast
from chat.access import is_moderator, room_for
from chat.errors import (
    AlreadyMember,
    InvalidFrame,
    ModeratorOnly,
    NotAGroupRoom,
    NotFriends,
    NotMember,
    RoomNotFound,
    TooManyMembers,
    UserBlocked,
)
from chat.models import TITLE_MAX_LENGTH, MemberRole, Membership, Room, RoomKind
from chat.selectors.friends import are_friends, blocked_between, friend_ids_of, pair
from chat.services.friends import is_row_id, other_user
from courses.errors import NotEntitled
from courses.models import Course
from courses.selectors.enrollments import (
    active_enrollments,
    course_is_visible,
    user_can_study_course,
)


def title_clean(title) -> str:
    if not isinstance(title, str) or not title.strip() or len(title) > TITLE_MAX_LENGTH:
        raise InvalidFrame(
            fields={"title": [_("1 to %(limit)s characters.") % {"limit": TITLE_MAX_LENGTH}]}
        )
    if "\x00" in title:
        raise InvalidFrame(fields={"title": [_("NUL characters are not allowed.")]})
    return title.strip()


def _membership_frame(room: Room, kind: str) -> dict:
    return {"type": kind, "room": room.pk}


@transaction.atomic
def group_room_create(*, user, title, member_ids) -> Room:
    """A group room of `user` (its moderator) and friends of theirs."""
    title = title_clean(title)
    if not isinstance(member_ids, list | tuple | set) or any(
        not is_row_id(member_id) for member_id in member_ids
    ):
        raise InvalidFrame(fields={"members": [_("A list of user ids.")]})
    member_ids = set(member_ids) - {user.pk}
    if len(member_ids) + 1 > settings.CHAT_GROUP_MAX_MEMBERS:
        raise TooManyMembers(limit=settings.CHAT_GROUP_MAX_MEMBERS)
    strangers = member_ids - friend_ids_of(user.pk)
    if strangers:
        raise NotFriends(
            fields={"members": [_("Not your friends: %(ids)s") % {"ids": sorted(strangers)}]}
        )
    room = Room.objects.create(kind=RoomKind.GROUP, title=title, created_by=user)
    Membership.objects.bulk_create(
        [Membership(room=room, user=user, role=MemberRole.MODERATOR)]
        + [Membership(room=room, user_id=member_id) for member_id in sorted(member_ids)]
    )
    broadcast.access_changed_on_commit([user.pk, *member_ids])
    return room


@transaction.atomic
def direct_room_open(*, user, user_id) -> tuple[Room, bool]:
    """The one room of two friends (made on first use: True)."""
    other = other_user(user=user, user_id=user_id)
    if blocked_between(user.pk, other.pk):
        raise UserBlocked()
    if not are_friends(user.pk, other.pk):
        raise NotFriends()
    low, high = pair(user.pk, other.pk)
    key = f"{low}:{high}"
    room = Room.objects.filter(direct_key=key).first()
    if room is not None:
        return room, False
    try:
        with transaction.atomic():
            room = Room.objects.create(kind=RoomKind.DIRECT, direct_key=key, created_by=user)
    except IntegrityError:  # both opened it at once
        return Room.objects.get(direct_key=key), False
    Membership.objects.bulk_create(
        [Membership(room=room, user=user), Membership(room=room, user=other)]
    )
    broadcast.access_changed_on_commit([user.pk, other.pk])
    return room, True


def course_rooms_ensure(course_ids) -> None:
    """Every published course of these has its room (idempotent; one query to write)."""
    courses = Course.objects.filter(pk__in=list(course_ids), is_published=True).values_list(
        "pk", "title"
    )
    Room.objects.bulk_create(
        [Room(kind=RoomKind.COURSE, course_id=pk, title=title[:TITLE_MAX_LENGTH])
         for pk, title in courses],
        ignore_conflicts=True,
    )  # fmt: skip


def course_room_open(*, user, course_id) -> Room:
    """The course's room, for those who may study it."""
    course = Course.objects.filter(pk=course_id).first() if is_row_id(course_id) else None
    if course is None or not course_is_visible(user, course):
        raise RoomNotFound()
    if not user_can_study_course(user, course):
        raise NotEntitled()
    room, _created = Room.objects.get_or_create(
        course=course,
        defaults={"kind": RoomKind.COURSE, "title": course.title[:TITLE_MAX_LENGTH]},
    )
    return room


def _group_for_moderator(*, user, room_id) -> Room:
    room = room_for(user=user, room_id=room_id, for_update=True)
    if room.kind != RoomKind.GROUP:
        raise NotAGroupRoom()
    if not is_moderator(user=user, room=room):
        raise ModeratorOnly()
    return room


@transaction.atomic
def room_rename(*, user, room_id, title) -> Room:
    room = _group_for_moderator(user=user, room_id=room_id)
    room.title = title_clean(title)
    room.save(update_fields=("title", "updated_at"))
    broadcast.room_frame_on_commit(
        room.pk, {"type": "room.updated", "room": room.pk, "title": room.title}
    )
    return room


@transaction.atomic
def member_add(*, user, room_id, user_id) -> Membership:
    """A moderator adds a friend of theirs."""
    room = _group_for_moderator(user=user, room_id=room_id)
    other = other_user(user=user, user_id=user_id)
    if blocked_between(user.pk, other.pk):
        raise UserBlocked()
    if not are_friends(user.pk, other.pk):
        raise NotFriends()
    if room.memberships.count() >= settings.CHAT_GROUP_MAX_MEMBERS:
        raise TooManyMembers(limit=settings.CHAT_GROUP_MAX_MEMBERS)
    membership, created = Membership.objects.get_or_create(
        room=room, user=other, defaults={"last_read_seq": room.last_seq}
    )
    if not created:
        raise AlreadyMember()
    broadcast.access_changed_on_commit([other.pk])
    broadcast.room_frame_on_commit(
        room.pk, {"type": "member.added", "room": room.pk, "user": other.pk}
    )
    return membership


def _member_drop(room: Room, user_id: int) -> None:
    deleted, _ = Membership.objects.filter(room=room, user_id=user_id).delete()
    if not deleted:
        raise NotMember()
    if not room.memberships.filter(role=MemberRole.MODERATOR).exists():
        # A group is never left without a moderator: its longest-standing member becomes one.
        successor = room.memberships.order_by("joined_at", "pk").first()
        if successor is not None:
            Membership.objects.filter(pk=successor.pk).update(role=MemberRole.MODERATOR)
    broadcast.access_changed_on_commit([user_id])
    broadcast.room_frame_on_commit(
        room.pk, {"type": "member.removed", "room": room.pk, "user": user_id}
    )


@transaction.atomic
def member_remove(*, user, room_id, user_id) -> None:
    """A moderator removes a member (themselves included, which is leaving)."""
    room = _group_for_moderator(user=user, room_id=room_id)
    if not is_row_id(user_id):
        raise NotMember()
    _member_drop(room, user_id)


@transaction.atomic
def room_leave(*, user, room_id) -> None:
    """Only group rooms can be left: a direct room goes with the friendship, a course room with
    the course."""
    room = room_for(user=user, room_id=room_id, for_update=True)
    if room.kind != RoomKind.GROUP:
        raise NotAGroupRoom()
    _member_drop(room, user.pk)


@transaction.atomic
def member_mute(*, user, room_id, user_id, until: datetime | None) -> Membership:
    """A moderator (of a group room, or a course's tutor or staff) stops a member posting until
    `until` (None lifts it)."""
    room = room_for(user=user, room_id=room_id, for_update=True)
    if not is_moderator(user=user, room=room):
        raise ModeratorOnly()
    if room.kind == RoomKind.DIRECT:
        raise NotAGroupRoom()
    other = other_user(user=user, user_id=user_id)
    if room.kind == RoomKind.COURSE:
        if not user_can_study_course(other, room.course):
            raise NotMember()  # a row for an outsider would grant nothing, only clutter
        membership, _ = Membership.objects.get_or_create(room=room, user=other)
    else:
        membership = Membership.objects.filter(room=room, user=other).first()
        if membership is None:
            raise NotMember()
    membership.muted_until = until if until is None or until > timezone.now() else None
    membership.save(update_fields=("muted_until",))
    return membership


def course_access_changed_handle(*, user_ids, course_ids) -> None:
    """courses announced that who may study these courses changed (after commit): their rooms
    exist, and the sockets concerned re-check their rooms. `user_ids` None means anyone's."""
    course_ids = list(course_ids)
    course_rooms_ensure(course_ids)
    if user_ids is not None:
        broadcast.access_changed_now(broadcast.user_group(user_id) for user_id in user_ids)
        return
    rooms = Room.objects.filter(course_id__in=course_ids).values_list("pk", flat=True)
    gaining = set(
        active_enrollments().filter(course_id__in=course_ids).values_list("user_id", flat=True)
    ) | set(Course.objects.filter(pk__in=course_ids).values_list("tutor_id", flat=True))
    broadcast.access_changed_now(
        [broadcast.room_group(room_id) for room_id in rooms]
        + [broadcast.user_group(user_id) for user_id in gaining]
    )

"""Who is in a room, as read: the members of a direct or group room, or, for a course room, the
course's tutor (its moderator) and everyone who may study the course now."""

from django.contrib.auth import get_user_model
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone

from chat.access import room_for
from chat.models import MemberRole, Membership, Room, RoomKind
from courses.selectors.enrollments import active_enrollments

User = get_user_model()


def room_members(*, user, room_id: int) -> QuerySet:
    """Active users of a room `user` may use (RoomNotFound, NotEntitled), each annotated with
    `member_role` and `muted_until`: moderators first, then by username. One query per page."""
    room = room_for(user=user, room_id=room_id)
    return members_of(room)


def members_of(room: Room) -> QuerySet:
    membership = Membership.objects.filter(room=room, user=OuterRef("pk"))
    # A mute that has run out is no mute.
    muted = membership.filter(muted_until__gt=timezone.now()).values("muted_until")[:1]
    if room.kind == RoomKind.COURSE:
        learners = active_enrollments().filter(course_id=room.course_id).values("user_id")
        users = User.objects.filter(Q(pk=room.course.tutor_id) | Q(pk__in=learners))
        # Staff moderate every course room; a course room's rows only keep markers and mutes.
        role = Case(
            When(Q(pk=room.course.tutor_id) | Q(is_staff=True), then=Value(MemberRole.MODERATOR)),
            default=Value(MemberRole.MEMBER),
        )
    else:
        users = User.objects.filter(pk__in=Membership.objects.filter(room=room).values("user_id"))
        role = Subquery(membership.values("role")[:1])
    moderators_first = Case(When(member_role=MemberRole.MODERATOR, then=Value(0)), default=1)
    return (
        users.filter(is_active=True)
        .only("pk", "username", "name")
        .annotate(member_role=role, muted_until=Subquery(muted))
        .order_by(moderators_first, "username_canonical", "pk")
    )

"""Chat's factories, and set-ups built with the services themselves (friends with their direct
room, a group, a course room with a learner) so that tests start from states the app can reach."""

import factory
from django.db import transaction
from django.db.models import F

from accounts.tests.factories import UserFactory
from chat.models import (
    Block,
    FriendRequest,
    Friendship,
    MemberRole,
    Membership,
    Message,
    Room,
    RoomKind,
)
from chat.selectors.friends import pair
from chat.services.rooms import course_room_open, direct_room_open, group_room_create
from courses.services.enrollments import enrollment_grant
from courses.tests.factories import CourseFactory


class RoomFactory(factory.django.DjangoModelFactory[Room]):
    class Meta:
        model = Room

    kind = RoomKind.GROUP
    title = factory.Sequence(lambda n: f"Room {n}")


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    room = factory.SubFactory(RoomFactory)
    user = factory.SubFactory(UserFactory)
    role = MemberRole.MEMBER


class FriendRequestFactory(factory.django.DjangoModelFactory[FriendRequest]):
    class Meta:
        model = FriendRequest

    from_user = factory.SubFactory(UserFactory)
    to_user = factory.SubFactory(UserFactory)


class BlockFactory(factory.django.DjangoModelFactory[Block]):
    class Meta:
        model = Block

    blocker = factory.SubFactory(UserFactory)
    blocked = factory.SubFactory(UserFactory)


def befriend(user, other) -> Friendship:
    low, high = pair(user.pk, other.pk)
    return Friendship.objects.create(user_low_id=low, user_high_id=high)


def direct_room(user, other) -> Room:
    """`user` and `other` as friends, and their direct room."""
    befriend(user, other)
    room, _created = direct_room_open(user=user, user_id=other.pk)
    return room


def group_room(moderator, *members) -> Room:
    """A group of `moderator` (its creator) and `members`, all friends of the moderator."""
    for member in members:
        befriend(moderator, member)
    return group_room_create(
        user=moderator, title="Study group", member_ids=[member.pk for member in members]
    )


def course_room(learner=None, *, expires_at=None, **course_fields) -> Room:
    """A published course's room; `learner` enrolled (until `expires_at`) if given."""
    course = CourseFactory(**course_fields)
    if learner is not None:
        enrollment_grant(user=learner, course=course, expires_at=expires_at)
    return course_room_open(user=course.tutor, course_id=course.pk)


@transaction.atomic
def message_write(room: Room, sender, body: str = "hello") -> Message:
    """A message stored as message_send stores it, without telling any socket (a broadcast that
    is late, or lost)."""
    Room.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
    seq = Room.objects.values_list("last_seq", flat=True).get(pk=room.pk)
    return Message.objects.create(
        room=room, seq=seq, sender=sender, client_msg_id=f"w{room.pk}-{seq}", body=body
    )

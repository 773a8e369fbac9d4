"""Demo chat (loaded by `manage.py seed_demo` after the accounts and courses): student1 and
student2 are friends with a direct conversation, a study group with the tutor, and a room per
published demo course. Idempotent: messages are sent with fixed client_msg_ids."""

from accounts.models import CustomUser
from chat.models import Friendship, Room, RoomKind
from chat.selectors.friends import pair
from chat.services.messages import message_send
from chat.services.rooms import course_room_open, direct_room_open, group_room_create
from courses.models import Course

STUDY_GROUP_TITLE = "Study group"


def _befriend(one: CustomUser, other: CustomUser) -> None:
    low, high = pair(one.pk, other.pk)
    Friendship.objects.get_or_create(user_low_id=low, user_high_id=high)


def _say(user, room, key: str, body: str) -> None:
    message_send(user=user, room_id=room.pk, client_msg_id=f"demo-{key}", body=body)


def load(*, stdout, style) -> None:
    users = {user.email: user for user in CustomUser.objects.filter(email__endswith="@example.com")}
    student1, student2 = users["student1@example.com"], users["student2@example.com"]
    tutor = users["tutor@example.com"]
    _befriend(student1, student2)
    _befriend(student1, tutor)
    direct, _created = direct_room_open(user=student1, user_id=student2.pk)
    _say(student1, direct, "direct-1", "Hi! Did you finish the first quiz?")
    _say(student2, direct, "direct-2", "Yes, question 3 was tricky. Want to go over it?")
    group = Room.objects.filter(kind=RoomKind.GROUP, title=STUDY_GROUP_TITLE).first()
    if group is None:
        group = group_room_create(
            user=student1, title=STUDY_GROUP_TITLE, member_ids=[student2.pk, tutor.pk]
        )
    _say(student1, group, "group-1", "Welcome to our study group.")
    for course in Course.objects.filter(tutor=tutor, is_published=True).order_by("pk"):
        room = course_room_open(user=tutor, course_id=course.pk)
        _say(tutor, room, f"course-{course.pk}", f"Welcome to {course.title}! Ask here.")
    stdout.write(
        style.SUCCESS(
            "Demo chat: student1 and student2 are friends (a direct room), a study group with "
            "the tutor, a room per demo course; sockets at ws://127.0.0.1:8000/ws/chat/"
        )
    )

"""Staff in the admin: every chat page opens, and the reports queue's actions moderate."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.demo import STUDY_GROUP_TITLE
from chat.errors import Muted
from chat.models import Membership, Message, ReportStatus, Room, RoomKind
from chat.services.friends import friend_request_accept, friend_request_send
from chat.services.messages import message_send
from chat.services.reports import message_report
from chat.services.rooms import group_room_create
from courses.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db


def _reported_message():
    owner, troll = UserFactory(), UserFactory()
    request, _ = friend_request_send(user=owner, user_id=troll.pk)
    friend_request_accept(user=troll, request_id=request.pk)
    room = group_room_create(user=owner, title="Study group", member_ids=[troll.pk])
    message, _ = message_send(user=troll, room_id=room.pk, client_msg_id="t1", body="spam spam")
    report = message_report(user=owner, message_id=message.pk, reason="spam")
    return troll, room, message, report


@pytest.mark.parametrize(
    "page", ["room", "message", "messagereport", "friendrequest", "friendship", "block"]
)
def test_every_chat_admin_page_opens(admin_client, page):
    _reported_message()
    assert admin_client.get(f"/admin/chat/{page}/").status_code == 200


def test_a_room_page_shows_its_members(admin_client):
    troll, room, _message, _report = _reported_message()
    response = admin_client.get(f"/admin/chat/room/{room.pk}/change/")
    assert response.status_code == 200
    assert b"Study group" in response.content and troll.email.encode() in response.content


def test_deleting_reported_messages_leaves_tombstones_and_closes_the_reports(admin_client):
    _troll, room, message, report = _reported_message()
    response = admin_client.post(
        "/admin/chat/messagereport/",
        {"action": "delete_messages", "_selected_action": [report.pk]},
    )
    assert response.status_code == 302
    message.refresh_from_db()
    report.refresh_from_db()
    assert message.deleted_at is not None and message.body == ""
    assert report.status == ReportStatus.ACTIONED and report.resolved_by is not None
    # What was reported stays readable for staff, and the seq stays: no gap.
    assert report.body_snapshot == "spam spam"
    assert Room.objects.get(pk=room.pk).last_seq == 1


def test_muting_a_reported_sender_stops_their_posts_in_that_room(admin_client):
    troll, room, _message, report = _reported_message()
    admin_client.post(
        "/admin/chat/messagereport/", {"action": "mute_senders", "_selected_action": [report.pk]}
    )
    assert Membership.objects.get(room=room, user=troll).muted_until > timezone.now()
    with pytest.raises(Muted):
        message_send(user=troll, room_id=room.pk, client_msg_id="t2", body="again")
    assert Message.objects.filter(room=room).count() == 1


def test_dismissing_closes_the_report_and_keeps_the_message(admin_client):
    _troll, _room, message, report = _reported_message()
    admin_client.post(
        "/admin/chat/messagereport/", {"action": "dismiss", "_selected_action": [report.pk]}
    )
    report.refresh_from_db()
    message.refresh_from_db()
    assert report.status == ReportStatus.DISMISSED and message.deleted_at is None


def test_staff_cannot_forge_messages_rooms_or_reports_in_the_admin(admin_client):
    for page in ("message", "messagereport", "room"):
        assert admin_client.get(f"/admin/chat/{page}/add/").status_code == 403


def test_course_rooms_are_listed_by_kind(admin_client):
    course = CourseFactory(is_published=True, title="Django for learners")
    Room.objects.create(kind=RoomKind.COURSE, course=course, title=course.title)
    response = admin_client.get("/admin/chat/room/?kind=course")
    assert response.status_code == 200 and b"Django for learners" in response.content


def test_the_demo_chat_loads_twice_without_duplicates():
    call_command("seed_demo", stdout=io.StringIO())
    rooms, messages = Room.objects.count(), Message.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert (Room.objects.count(), Message.objects.count()) == (rooms, messages)
    assert Room.objects.filter(kind=RoomKind.COURSE).exists()
    assert Room.objects.filter(kind=RoomKind.GROUP, title=STUDY_GROUP_TITLE).count() == 1

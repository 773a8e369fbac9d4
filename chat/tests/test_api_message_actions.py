"""REST: editing, deleting and reporting messages; the read marker; the events a client missed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, UserFactory
from chat.models import Block, Membership, Message, MessageReport
from chat.serializers import ReportSerializer
from chat.services.friends import friend_remove
from chat.services.rooms import group_room_create
from chat.tests.factories import befriend, course_room, direct_room, message_write
from core.testing import assert_error_envelope
from courses.services.enrollments import enrollment_revoke

pytestmark = pytest.mark.django_db


def message_url(message_id: int) -> str:
    return f"/api/chat/messages/{message_id}/"


@pytest.fixture
def chat():
    """alice and bob's direct room with one message of each."""
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    return alice, bob, room, message_write(room, alice, "mine"), message_write(room, bob, "his")


# --- Editing --------------------------------------------------------------------------------------


def test_the_author_edits_their_message(chat):
    alice, _bob, _room, mine, _his = chat
    response = client_for(alice).patch(message_url(mine.pk), {"body": "fixed"}, "json")
    assert response.status_code == 200
    assert response.json()["body"] == "fixed" and response.json()["edited_at"] is not None
    stored = Message.objects.get(pk=mine.pk)
    assert stored.body == "fixed" and stored.edited_at is not None and stored.seq == mine.seq


def test_nobody_else_edits_it(chat):
    _alice, bob, _room, mine, _his = chat
    refused = client_for(bob).patch(message_url(mine.pk), {"body": "yours now"}, "json")
    assert_error_envelope(refused, 403, "not_message_author")
    hidden = client_for(UserFactory()).patch(message_url(mine.pk), {"body": "x"}, "json")
    assert_error_envelope(hidden, 404, "not_found")
    assert Message.objects.get(pk=mine.pk).body == "mine"


@pytest.mark.parametrize(("who", "code"), [("blocked", "blocked"), ("unfriended", "not_friends")])
def test_an_edit_is_refused_once_the_author_could_not_send_it(chat, who, code):
    alice, bob, _room, mine, _his = chat
    if who == "blocked":
        Block.objects.create(blocker=bob, blocked=alice)
    else:
        friend_remove(user=bob, user_id=alice.pk)
    refused = client_for(alice).patch(message_url(mine.pk), {"body": "changed"}, "json")
    assert_error_envelope(refused, 403, code)
    assert Message.objects.get(pk=mine.pk).body == "mine"


def test_a_muted_author_cannot_edit():
    alice, bob = UserFactory(), UserFactory()
    befriend(alice, bob)
    room = group_room_create(user=alice, title="G", member_ids=[bob.pk])
    his = message_write(room, bob, "before")
    Membership.objects.filter(room=room, user=bob).update(
        muted_until=timezone.now() + timedelta(hours=1)
    )
    refused = client_for(bob).patch(message_url(his.pk), {"body": "after"}, "json")
    assert_error_envelope(refused, 403, "muted")
    assert Message.objects.get(pk=his.pk).body == "before"


@pytest.mark.parametrize("body", ["", "  ", "a\x00b", "x" * 4001, 5, None])
def test_a_bad_edit_is_400_and_changes_nothing(chat, body):
    alice, _bob, _room, mine, _his = chat
    response = client_for(alice).patch(message_url(mine.pk), {"body": body}, "json")
    assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["body"]
    assert Message.objects.get(pk=mine.pk).body == "mine"


# --- Deleting -------------------------------------------------------------------------------------


def test_the_author_deletes_leaving_a_tombstone_and_deleting_again_is_harmless(chat):
    alice, bob, room, mine, _his = chat
    client = client_for(alice)
    response = client.delete(message_url(mine.pk))
    assert response.status_code == 204 and response.content == b""
    stored = Message.objects.get(pk=mine.pk)
    assert stored.body == "" and stored.deleted_at is not None
    assert client.delete(message_url(mine.pk)).status_code == 204
    edited = client.patch(message_url(mine.pk), {"body": "back"}, "json")
    assert_error_envelope(edited, 409, "message_deleted")
    history = client_for(bob).get(f"/api/chat/rooms/{room.pk}/messages/").json()["results"]
    assert [(m["seq"], m["body"], m["deleted"]) for m in history] == [
        (1, "", True),
        (2, "his", False),
    ]


def test_a_member_cannot_delete_anothers_message_but_a_moderator_can():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    befriend(alice, bob)
    befriend(alice, carol)
    room = group_room_create(user=alice, title="G", member_ids=[bob.pk, carol.pk])
    carols = message_write(room, carol, "rude")
    refused = client_for(bob).delete(message_url(carols.pk))
    assert_error_envelope(refused, 403, "not_message_author")
    assert Message.objects.get(pk=carols.pk).deleted_at is None
    assert client_for(alice).delete(message_url(carols.pk)).status_code == 204
    assert Message.objects.get(pk=carols.pk).deleted_at is not None


def test_a_courses_tutor_and_staff_delete_a_learners_message():
    learner = UserFactory()
    room = course_room(learner)
    first, second = message_write(room, learner), message_write(room, learner)
    assert client_for(room.course.tutor).delete(message_url(first.pk)).status_code == 204
    assert client_for(StaffFactory()).delete(message_url(second.pk)).status_code == 204
    assert Message.objects.filter(deleted_at__isnull=True).count() == 0


@pytest.mark.parametrize("message_id", ["other-room", 0, 2**63 - 1, 2**63, 10**30])
def test_someone_elses_or_a_missing_message_is_404(chat, message_id):
    _alice, _bob, _room, mine, _his = chat
    if message_id == "other-room":
        message_id = mine.pk
    client = client_for(UserFactory())
    assert_error_envelope(client.delete(message_url(message_id)), 404, "not_found")
    report = client.post(f"{message_url(message_id)}report/", {"reason": "spam"}, "json")
    assert_error_envelope(report, 404, "not_found")
    assert Message.objects.get(pk=mine.pk).deleted_at is None
    assert not MessageReport.objects.exists()


def test_a_course_message_is_out_of_reach_once_the_course_is_lost():
    learner = UserFactory()
    room = course_room(learner)
    own = message_write(room, learner, "mine")
    enrollment_revoke(user=learner, course=room.course)
    client = client_for(learner)
    assert_error_envelope(client.patch(message_url(own.pk), {"body": "x"}, "json"), 404)
    assert_error_envelope(client.delete(message_url(own.pk)), 404, "not_found")
    assert Message.objects.get(pk=own.pk).body == "mine"


# --- Reporting ------------------------------------------------------------------------------------


def test_a_report_keeps_the_body_as_reported_and_comes_once(chat):
    alice, bob, _room, _mine, his = chat
    client = client_for(alice)
    data = {"reason": "abuse", "detail": "Not nice."}
    response = client.post(f"{message_url(his.pk)}report/", data, "json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == set(ReportSerializer().fields)
    assert (body["message"], body["reason"], body["status"]) == (his.pk, "abuse", "open")
    client_for(bob).patch(message_url(his.pk), {"body": "edited away"}, "json")
    report = MessageReport.objects.get()
    assert (report.reporter, report.body_snapshot, report.detail) == (alice, "his", "Not nice.")
    again = client.post(f"{message_url(his.pk)}report/", data, "json")
    assert_error_envelope(again, 409, "already_reported")
    assert MessageReport.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [{}, {"reason": "boring"}, {"reason": "spam", "detail": "x" * 1001},
     {"reason": "spam", "detail": "a\x00b"}, {"reason": "spam", "detail": 7}],
)  # fmt: skip
def test_a_bad_report_is_400(chat, data):
    alice, _bob, _room, _mine, his = chat
    response = client_for(alice).post(f"{message_url(his.pk)}report/", data, "json")
    assert_error_envelope(response, 400, "validation_error")
    assert not MessageReport.objects.exists()


# --- The read marker ------------------------------------------------------------------------------


def test_the_read_marker_moves_forward_only_and_stops_at_the_last_message(chat):
    _alice, bob, room, _mine, _his = chat
    client = client_for(bob)
    url = f"/api/chat/rooms/{room.pk}/read/"
    membership = Membership.objects.get(room=room, user=bob)
    Membership.objects.filter(pk=membership.pk).update(last_read_seq=0)
    assert client.post(url, {"seq": 1}, "json").json() == {"last_read_seq": 1}
    assert client.post(url, {"seq": 0}, "json").json() == {"last_read_seq": 1}
    assert client.post(url, {"seq": 2**63 - 1}, "json").json() == {"last_read_seq": 2}
    assert Membership.objects.get(pk=membership.pk).last_read_seq == 2


@pytest.mark.parametrize("seq", [-1, 1.5, "x", None, True, 2**63, [1]])
def test_a_bad_seq_is_400(chat, seq):
    _alice, bob, room, _mine, _his = chat
    response = client_for(bob).post(f"/api/chat/rooms/{room.pk}/read/", {"seq": seq}, "json")
    assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["seq"]


def test_marking_someone_elses_room_read_is_404_and_writes_nothing(chat):
    _alice, _bob, room, _mine, _his = chat
    outsider = UserFactory()
    response = client_for(outsider).post(f"/api/chat/rooms/{room.pk}/read/", {"seq": 1}, "json")
    assert_error_envelope(response, 404, "not_found")
    assert not Membership.objects.filter(user=outsider).exists()


# --- Events ---------------------------------------------------------------------------------------


def test_events_replay_what_was_missed_as_the_socket_frames(chat, settings):
    alice, _bob, room, mine, his = chat
    client = client_for(alice)
    url = f"/api/chat/rooms/{room.pk}/events/"
    response = client.get(url, {"after_seq": 1})
    assert response.status_code == 200
    body = response.json()
    assert (body["has_more"], body["resync_required"]) == (False, False)
    assert [(e["type"], e["message"]["id"]) for e in body["events"]] == [("message.new", his.pk)]
    assert client.get(url, {"after_seq": 2}).json()["events"] == []

    settings.CHAT_RESUME_LIMIT = 1
    beyond = client.get(url, {"after_seq": 0}).json()
    assert beyond == {"events": [], "has_more": True, "resync_required": True}
    assert client.get(url, {"after_seq": 1}).json()["events"][0]["message"]["seq"] == 2
    assert mine.seq == 1


@pytest.mark.parametrize("query", [{}, {"after_seq": "NaN"}, {"after_seq": -1},
                                   {"after_seq": str(2**63)}, {"after_seq": "1.5"}])  # fmt: skip
def test_events_need_a_valid_after_seq(chat, query):
    alice, _bob, room, _mine, _his = chat
    response = client_for(alice).get(f"/api/chat/rooms/{room.pk}/events/", query)
    assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["after_seq"]


def test_someone_elses_events_are_404(chat):
    _alice, _bob, room, _mine, _his = chat
    response = client_for(UserFactory()).get(f"/api/chat/rooms/{room.pk}/events/?after_seq=0")
    assert_error_envelope(response, 404, "not_found")
    assert "mine" not in response.content.decode()

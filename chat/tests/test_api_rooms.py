"""REST: the caller's rooms, group rooms, the direct room of two friends, a course's room."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, UserFactory
from chat import urls as chat_urls
from chat.models import Block, Membership, Message, Room, RoomKind
from chat.payloads import message_data, user_data
from chat.selectors.friends import are_friends
from chat.selectors.rooms import room_list
from chat.serializers import ChatUserSerializer, MessageSerializer, RoomSerializer
from chat.services.messages import message_send
from chat.services.rooms import group_room_create
from chat.tests.factories import befriend, course_room, direct_room, message_write
from core.testing import assert_error_envelope
from courses.services.enrollments import enrollment_grant, enrollment_revoke
from courses.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

ROOMS = "/api/chat/rooms/"


def group_room(moderator, *members) -> Room:
    """A group of `moderator` and friends of theirs (befriended here if they are not yet)."""
    for member in members:
        if not are_friends(moderator.pk, member.pk):
            befriend(moderator, member)
    member_ids = [member.pk for member in members]
    return group_room_create(user=moderator, title="Study group", member_ids=member_ids)


def _room(client, room_id: int):
    return client.get(f"{ROOMS}{room_id}/")


# --- The shapes -----------------------------------------------------------------------------------


def test_the_message_and_user_serializers_describe_the_payloads_exactly():
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    message = message_write(room, alice)
    data = message_data(Message.objects.select_related("sender").get(pk=message.pk))
    assert set(data) == set(MessageSerializer().fields)
    assert set(data["sender"]) == set(user_data(alice)) == set(ChatUserSerializer().fields)


def test_a_room_renders_exactly_the_fields_its_serializer_declares():
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    rendered = client_for(alice).get(f"{ROOMS}{room.pk}/").json()
    assert set(rendered) == set(RoomSerializer().fields)


# --- The list -------------------------------------------------------------------------------------


def test_the_list_shows_each_room_with_unread_count_last_message_and_role():
    alice, bob, carol = UserFactory(name="Alice"), UserFactory(name="Bob"), UserFactory()
    direct = direct_room(alice, bob)
    group = group_room(bob, alice, carol)
    message_write(direct, bob, "first")
    last = message_write(direct, bob, "second")
    message_write(group, carol, "group news")  # the latest activity: listed first

    response = client_for(alice).get(ROOMS)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert (first["id"], first["kind"], first["title"]) == (group.pk, "group", "Study group")
    assert first["role"] == "member" and first["other_user"] is None
    assert first["last_message"]["body"] == "group news"
    assert second["id"] == direct.pk
    assert second["title"] == "Bob"
    assert second["other_user"] == {"id": bob.pk, "username": bob.username, "name": "Bob"}
    assert (second["last_seq"], second["last_read_seq"], second["unread_count"]) == (2, 0, 2)
    assert second["last_message"]["id"] == last.pk
    assert second["muted_until"] is None and second["course"] is None


def test_a_direct_room_of_a_user_without_a_name_is_titled_with_the_username():
    alice, bob = UserFactory(), UserFactory(name="")
    direct_room(alice, bob)
    assert client_for(alice).get(ROOMS).json()["results"][0]["title"] == bob.username


def test_a_room_with_no_message_has_no_last_message_and_the_creator_moderates_it():
    alice, bob = UserFactory(), UserFactory()
    group_room(alice, bob)
    item = client_for(alice).get(ROOMS).json()["results"][0]
    assert item["last_message"] is None and item["last_seq"] == 0
    assert item["role"] == "moderator"


def test_the_list_holds_only_the_callers_rooms():
    alice, bob, mallory = UserFactory(), UserFactory(), UserFactory()
    direct_room(alice, bob)
    group_room(alice, bob)
    assert client_for(mallory).get(ROOMS).json() == {
        "count": 0, "next": None, "previous": None, "results": [],
    }  # fmt: skip


def test_course_rooms_follow_entitlement_and_the_tutor_and_staff_moderate():
    learner, outsider = UserFactory(), UserFactory()
    room = course_room(learner)
    tutor = room.course.tutor

    def listed(user):
        return {item["id"]: item for item in client_for(user).get(ROOMS).json()["results"]}

    assert listed(learner)[room.pk]["role"] == "member"
    assert listed(learner)[room.pk]["course"] == room.course_id
    assert listed(tutor)[room.pk]["role"] == "moderator"
    assert listed(StaffFactory())[room.pk]["role"] == "moderator"
    assert room.pk not in listed(outsider)
    enrollment_revoke(user=learner, course=room.course)
    assert room.pk not in listed(learner)


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ROOMS, {"page_size": 100})
    assert response.status_code == 200
    return len(queries)


def test_the_list_runs_as_many_queries_for_one_room_as_for_many():
    alice = UserFactory()
    client = client_for(alice)
    client.get(ROOMS)  # the session's check is cached from here on
    friend = UserFactory()
    message_write(direct_room(alice, friend), friend)
    one = _list_queries(client)
    for _ in range(12):
        other = UserFactory()
        message_write(direct_room(alice, other), other)
        message_write(group_room(alice, other), other)
        course_room(alice)
    many = _list_queries(client)
    assert client.get(ROOMS, {"page_size": 100}).json()["count"] == 37
    assert one == many <= 5


# --- Creating and opening -------------------------------------------------------------------------


def test_creating_a_group_room_with_friends_makes_the_caller_its_moderator():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    befriend(alice, bob)
    befriend(alice, carol)

    response = client_for(alice).post(
        ROOMS, {"title": "  Readers  ", "members": [bob.pk, carol.pk]}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["title"], body["role"]) == ("group", "Readers", "moderator")
    room = Room.objects.get(pk=body["id"])
    roles = dict(Membership.objects.filter(room=room).values_list("user_id", "role"))
    assert roles == {alice.pk: "moderator", bob.pk: "member", carol.pk: "member"}


def test_a_group_room_with_a_stranger_is_refused_and_nothing_is_made():
    alice, bob, stranger = UserFactory(), UserFactory(), UserFactory()
    befriend(alice, bob)
    response = client_for(alice).post(
        ROOMS, {"title": "Mine", "members": [bob.pk, stranger.pk]}, format="json"
    )
    error = assert_error_envelope(response, 403, "not_friends")
    assert str(stranger.pk) in error["fields"]["members"][0]
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"title": "", "members": []},
        {"title": "   ", "members": []},
        {"title": "a\x00b", "members": []},
        {"title": "x" * 101, "members": []},
        {"title": 12345, "members": []},
        {"title": "T", "members": [1.5]},
        {"title": "T", "members": [True]},
        {"title": "T", "members": ["abc"]},
        {"title": "T", "members": [2**63]},
        {"title": "T", "members": [0]},
        {"title": "T", "members": 7},
    ],
)
def test_bad_group_room_input_is_400_naming_the_field(body):
    response = client_for(UserFactory()).post(ROOMS, body, format="json")
    error = assert_error_envelope(response, 400, "validation_error")
    assert set(error["fields"]) <= {"title", "members", "members[0]"}, error
    assert not Room.objects.exists()


def test_opening_a_direct_room_makes_it_once_then_returns_it():
    alice, bob = UserFactory(), UserFactory()
    befriend(alice, bob)

    first = client_for(alice).post(f"{ROOMS}direct/", {"user": bob.pk}, format="json")
    again = client_for(bob).post(f"{ROOMS}direct/", {"user": alice.pk}, format="json")

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["other_user"]["id"] == alice.pk
    assert Room.objects.filter(kind=RoomKind.DIRECT).count() == 1


@pytest.mark.parametrize(
    ("setup", "status_code", "code"),
    [
        ("stranger", 403, "not_friends"),
        ("blocked-by-them", 403, "blocked"),
        ("blocked-by-me", 403, "blocked"),
        ("self", 400, "cannot_target_self"),
        ("unknown", 404, "not_found"),
        ("inactive", 404, "not_found"),
    ],
)
def test_a_direct_room_only_with_an_active_unblocked_friend(setup, status_code, code):
    alice, bob = UserFactory(), UserFactory()
    target = bob.pk
    if setup.startswith("blocked"):
        befriend(alice, bob)
        blocker, blocked = (bob, alice) if setup == "blocked-by-them" else (alice, bob)
        Block.objects.create(blocker=blocker, blocked=blocked)
    elif setup == "self":
        target = alice.pk
    elif setup == "unknown":
        target = 2**63 - 1
    elif setup == "inactive":
        befriend(alice, bob)
        bob.is_active = False
        bob.save()
    response = client_for(alice).post(f"{ROOMS}direct/", {"user": target}, format="json")
    assert_error_envelope(response, status_code, code)
    assert not Room.objects.exists()


def test_the_course_room_opens_for_a_learner_and_closes_at_once_on_revocation():
    learner = UserFactory()
    course = CourseFactory()
    client = client_for(learner)
    refused = client.post(f"{ROOMS}course/", {"course": course.pk}, format="json")
    assert_error_envelope(refused, 403, "not_entitled")

    enrollment_grant(user=learner, course=course)
    opened = client.post(f"{ROOMS}course/", {"course": course.pk}, format="json")
    assert opened.status_code == 200
    room_id = opened.json()["id"]
    assert opened.json()["kind"] == "course" and opened.json()["course"] == course.pk
    assert Room.objects.filter(course=course).count() == 1

    enrollment_revoke(user=learner, course=course)
    assert_error_envelope(_room(client, room_id), 403, "not_entitled")
    again = client.post(f"{ROOMS}course/", {"course": course.pk}, format="json")
    assert_error_envelope(again, 403, "not_entitled")


@pytest.mark.parametrize("course", ["draft", "unknown"])
def test_a_course_one_cannot_see_has_no_room(course):
    course_id = CourseFactory(is_published=False).pk if course == "draft" else 10**12
    response = client_for(UserFactory()).post(f"{ROOMS}course/", {"course": course_id}, "json")
    assert_error_envelope(response, 404, "not_found")
    assert not Room.objects.exists()


@pytest.mark.parametrize("value", [None, "", 1.5, "x", True, 0, -1, 2**63, [1]])
def test_a_bad_course_id_is_400(value):
    response = client_for(UserFactory()).post(f"{ROOMS}course/", {"course": value}, "json")
    assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["course"]


# --- One room -------------------------------------------------------------------------------------


def test_another_users_room_is_404_like_a_missing_one():
    alice, bob, mallory = UserFactory(), UserFactory(), UserFactory()
    direct = direct_room(alice, bob)
    group = group_room(alice, bob)
    client = client_for(mallory)
    for room_id in (direct.pk, group.pk, 10**9, 2**63 - 1, 2**63, 10**30):
        assert_error_envelope(_room(client, room_id), 404, "not_found")
        renamed = client.patch(f"{ROOMS}{room_id}/", {"title": "Mine"}, format="json")
        assert_error_envelope(renamed, 404, "not_found")
    assert Room.objects.get(pk=group.pk).title == "Study group"


def test_a_path_without_its_trailing_slash_is_404_naming_the_right_one():
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    response = client_for(alice).get(f"{ROOMS}{room.pk}")
    error = assert_error_envelope(response, 404, "not_found")
    assert error["message"].endswith(f"{ROOMS}{room.pk}/")


def test_a_moderator_renames_a_group_room():
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    response = client_for(alice).patch(f"{ROOMS}{room.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Renamed"
    assert Room.objects.get(pk=room.pk).title == "Renamed"


def test_a_member_cannot_rename_nor_anyone_a_direct_room():
    alice, bob = UserFactory(), UserFactory()
    group = group_room(alice, bob)
    refused = client_for(bob).patch(f"{ROOMS}{group.pk}/", {"title": "Mine"}, format="json")
    assert_error_envelope(refused, 403, "moderator_only")
    direct = Room.objects.get(pk=direct_room(alice, UserFactory()).pk)
    refused = client_for(alice).patch(f"{ROOMS}{direct.pk}/", {"title": "Ours"}, format="json")
    assert_error_envelope(refused, 409, "not_a_group_room")
    assert Room.objects.get(pk=group.pk).title == "Study group"
    assert Room.objects.get(pk=direct.pk).title == ""


def test_the_room_shows_the_callers_own_mute():
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    muted = client_for(alice).post(
        f"{ROOMS}{room.pk}/members/{bob.pk}/mute/", {"until": "2100-01-01T00:00:00Z"}, "json"
    )
    assert muted.status_code == 200
    assert _room(client_for(bob), room.pk).json()["muted_until"].startswith("2100-01-01T09:00")
    assert _room(client_for(alice), room.pk).json()["muted_until"] is None


def test_the_unread_count_falls_when_the_caller_reads_and_sends():
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    for n in range(3):
        message_send(user=bob, room_id=room.pk, client_msg_id=f"m{n}", body="hi")
    message_send(user=alice, room_id=room.pk, client_msg_id="reply", body="ok")
    item = room_list(alice).get(pk=room.pk)
    assert (item.last_read_seq, item.unread_count) == (4, 0)
    assert _room(client_for(bob), room.pk).json()["unread_count"] == 1


@pytest.mark.parametrize("route", [pattern.pattern for pattern in chat_urls.urlpatterns])
def test_every_chat_endpoint_refuses_an_anonymous_caller(api_client, route):
    path = "/api/" + re.sub(r"<int:\w+>", "1", str(route))
    for method in ("get", "post", "patch", "delete"):
        response = getattr(api_client, method)(path, {}, format="json")
        if response.status_code == 405:
            continue
        assert_error_envelope(response, 401, "not_authenticated")
    assert not Room.objects.exists()

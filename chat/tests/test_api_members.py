"""REST: a room's members; adding, removing, leaving, muting."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, UserFactory
from chat.models import Block, MemberRole, Membership, Message
from chat.selectors.friends import are_friends
from chat.services.rooms import group_room_create
from chat.tests.factories import befriend, course_room, direct_room
from core.testing import assert_error_envelope
from courses.models import Enrollment
from courses.services.enrollments import enrollment_grant, enrollment_revoke

pytestmark = pytest.mark.django_db

ROOMS = "/api/chat/rooms/"


def group_room(moderator, *members):
    for member in members:
        if not are_friends(moderator.pk, member.pk):
            befriend(moderator, member)
    member_ids = [member.pk for member in members]
    return group_room_create(user=moderator, title="Study group", member_ids=member_ids)


def members_of(room) -> dict[int, str]:
    return dict(Membership.objects.filter(room=room).values_list("user_id", "role"))


# --- The list -------------------------------------------------------------------------------------


def test_a_group_lists_its_members_moderators_first():
    zed, amy, bo = UserFactory(username="zed"), UserFactory(username="amy"), UserFactory()
    room = group_room(zed, amy, bo)
    response = client_for(amy).get(f"{ROOMS}{room.pk}/members/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["user"]["id"] for item in results] == [zed.pk, amy.pk, bo.pk]
    assert [item["role"] for item in results] == ["moderator", "member", "member"]
    assert results[0] == {
        "user": {"id": zed.pk, "username": "zed", "name": zed.name},
        "role": "moderator",
        "muted_until": None,
    }


def test_a_course_room_lists_its_tutor_and_current_learners_only():
    learner, former, outsider = UserFactory(), UserFactory(), UserFactory()
    room = course_room(learner)
    enrollment_grant(user=former, course=room.course)
    enrollment_revoke(user=former, course=room.course)
    expired = enrollment_grant(user=outsider, course=room.course)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Enrollment.objects.filter(pk=expired.pk).update(
        starts_at=an_hour_ago - timedelta(days=1), expires_at=an_hour_ago
    )

    listed = client_for(learner).get(f"{ROOMS}{room.pk}/members/").json()["results"]

    assert [(item["user"]["id"], item["role"]) for item in listed] == [
        (room.course.tutor_id, "moderator"),
        (learner.pk, "member"),
    ]
    refused = client_for(former).get(f"{ROOMS}{room.pk}/members/")
    assert_error_envelope(refused, 403, "not_entitled")


def test_the_members_of_someone_elses_room_are_404():
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    response = client_for(UserFactory()).get(f"{ROOMS}{room.pk}/members/")
    assert_error_envelope(response, 404, "not_found")


def test_the_member_list_runs_as_many_queries_for_2_members_as_for_40():
    alice = UserFactory()
    small, large = (
        group_room(alice, UserFactory()),
        group_room(alice, *UserFactory.create_batch(39)),
    )
    client = client_for(alice)
    client.get(ROOMS)  # the session's check is cached from here on
    counts = []
    for room in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{ROOMS}{room.pk}/members/", {"page_size": 100})
        assert response.status_code == 200
        counts.append(len(queries))
    assert response.json()["count"] == 40
    assert counts[0] == counts[1]


# --- Adding and removing --------------------------------------------------------------------------


def test_a_moderator_adds_a_friend_who_reads_from_now_on():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    room = group_room(alice, bob)
    befriend(alice, carol)
    Message.objects.create(room=room, seq=1, sender=alice, client_msg_id="a", body="before")
    room.last_seq = 1
    room.save()

    response = client_for(alice).post(f"{ROOMS}{room.pk}/members/", {"user": carol.pk}, "json")

    assert response.status_code == 201
    assert response.json()["user"]["id"] == carol.pk and response.json()["role"] == "member"
    membership = Membership.objects.get(room=room, user=carol)
    assert membership.last_read_seq == 1


@pytest.mark.parametrize(
    ("case", "status_code", "code"),
    [
        ("member-not-moderator", 403, "moderator_only"),
        ("stranger", 403, "not_friends"),
        ("blocked", 403, "blocked"),
        ("already-member", 409, "already_member"),
        ("self", 400, "cannot_target_self"),
        ("unknown-user", 404, "not_found"),
        ("outsiders-room", 404, "not_found"),
    ],
)
def test_adding_a_member_is_refused_unless_a_moderator_adds_a_friend(case, status_code, code):
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    room = group_room(alice, bob)
    actor, target = alice, carol.pk
    if case == "member-not-moderator":
        befriend(bob, carol)
        actor = bob
    elif case == "blocked":
        befriend(alice, carol)
        Block.objects.create(blocker=carol, blocked=alice)
    elif case == "already-member":
        target = bob.pk
    elif case == "self":
        target = alice.pk
    elif case == "unknown-user":
        target = 2**63 - 1
    elif case == "outsiders-room":
        actor = carol
        befriend(carol, UserFactory())
    before = members_of(room)
    response = client_for(actor).post(f"{ROOMS}{room.pk}/members/", {"user": target}, "json")
    assert_error_envelope(response, status_code, code)
    assert members_of(room) == before


@pytest.mark.parametrize("kind", ["direct", "course"])
def test_only_group_rooms_take_members(kind):
    alice, bob = UserFactory(), UserFactory()
    befriend(alice, bob)
    if kind == "direct":
        room, actor = direct_room(alice, UserFactory()), alice
    else:
        room = course_room()
        actor = room.course.tutor
        befriend(actor, bob)
    response = client_for(actor).post(f"{ROOMS}{room.pk}/members/", {"user": bob.pk}, "json")
    assert_error_envelope(response, 409, "not_a_group_room")
    assert not Membership.objects.filter(room=room, user=bob).exists()


@pytest.mark.parametrize("value", [None, "", str(2**62), 1.5, True, 0, 2**63, {"id": 1}])
def test_a_bad_user_id_is_400(value):
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    response = client_for(alice).post(f"{ROOMS}{room.pk}/members/", {"user": value}, "json")
    if value == str(2**62):  # digits are an id, as form fields send them: an unknown one
        assert_error_envelope(response, 404, "not_found")
    else:
        assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["user"]
    assert members_of(room) == {alice.pk: "moderator", bob.pk: "member"}


def test_a_moderator_removes_a_member_and_a_member_cannot():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    room = group_room(alice, bob, carol)
    refused = client_for(bob).delete(f"{ROOMS}{room.pk}/members/{carol.pk}/")
    assert_error_envelope(refused, 403, "moderator_only")
    assert carol.pk in members_of(room)

    removed = client_for(alice).delete(f"{ROOMS}{room.pk}/members/{carol.pk}/")
    assert removed.status_code == 204 and removed.content == b""
    assert members_of(room) == {alice.pk: "moderator", bob.pk: "member"}
    assert_error_envelope(client_for(carol).get(f"{ROOMS}{room.pk}/"), 404, "not_found")
    again = client_for(alice).delete(f"{ROOMS}{room.pk}/members/{carol.pk}/")
    assert_error_envelope(again, 404, "not_member")
    huge = client_for(alice).delete(f"{ROOMS}{room.pk}/members/{10**30}/")
    assert_error_envelope(huge, 404, "not_member")


def test_leaving_hands_the_room_to_the_longest_standing_member():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    room = group_room(alice, bob, carol)
    response = client_for(alice).post(f"{ROOMS}{room.pk}/leave/")
    assert response.status_code == 204
    assert members_of(room) == {bob.pk: MemberRole.MODERATOR, carol.pk: MemberRole.MEMBER}
    assert_error_envelope(client_for(alice).post(f"{ROOMS}{room.pk}/leave/"), 404, "not_found")


def test_direct_and_course_rooms_cannot_be_left():
    alice, bob = UserFactory(), UserFactory()
    direct = direct_room(alice, bob)
    course = course_room(alice)
    for room in (direct, course):
        response = client_for(alice).post(f"{ROOMS}{room.pk}/leave/")
        assert_error_envelope(response, 409, "not_a_group_room")
    assert members_of(direct) == {alice.pk: "member", bob.pk: "member"}


# --- Muting ---------------------------------------------------------------------------------------


def _mute(client, room, user, until):
    return client.post(f"{ROOMS}{room.pk}/members/{user.pk}/mute/", {"until": until}, "json")


def test_a_muted_member_cannot_post_until_the_mute_is_lifted():
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    until = (timezone.now() + timedelta(hours=1)).isoformat()
    send = {"client_msg_id": "m1", "body": "hi"}
    bob_client = client_for(bob)

    muted = _mute(client_for(alice), room, bob, until)
    assert muted.status_code == 200 and muted.json()["muted_until"] is not None
    refused = bob_client.post(f"{ROOMS}{room.pk}/messages/", send, "json")
    assert_error_envelope(refused, 403, "muted")
    assert not Message.objects.exists()

    lifted = _mute(client_for(alice), room, bob, None)
    assert lifted.status_code == 200 and lifted.json()["muted_until"] is None
    assert Membership.objects.get(room=room, user=bob).muted_until is None
    assert bob_client.post(f"{ROOMS}{room.pk}/messages/", send, "json").status_code == 201


def test_a_mute_in_the_past_lifts_it():
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    response = _mute(client_for(alice), room, bob, "2001-01-01T00:00:00Z")
    assert response.status_code == 200 and response.json()["muted_until"] is None


def test_a_courses_tutor_and_staff_mute_a_learner_but_a_learner_cannot():
    learner, other = UserFactory(), UserFactory()
    room = course_room(learner)
    enrollment_grant(user=other, course=room.course)
    until = "2100-01-01T00:00:00Z"
    assert_error_envelope(_mute(client_for(other), room, learner, until), 403, "moderator_only")
    assert _mute(client_for(room.course.tutor), room, learner, until).status_code == 200
    assert _mute(client_for(StaffFactory()), room, other, until).status_code == 200
    assert set(Membership.objects.filter(room=room, muted_until__isnull=False).values_list(
        "user_id", flat=True
    )) == {learner.pk, other.pk}  # fmt: skip


@pytest.mark.parametrize(
    "until", ["tomorrow", "", 12, "NaN", "99999-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"]
)
def test_a_bad_until_is_400(until):
    alice, bob = UserFactory(), UserFactory()
    room = group_room(alice, bob)
    error = assert_error_envelope(_mute(client_for(alice), room, bob, until), 400)
    assert list(error["fields"]) == ["until"]
    assert Membership.objects.get(room=room, user=bob).muted_until is None


def test_muting_needs_the_until_field_and_a_member():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    room = group_room(alice, bob)
    client = client_for(alice)
    missing = client.post(f"{ROOMS}{room.pk}/members/{bob.pk}/mute/", {}, "json")
    assert list(assert_error_envelope(missing, 400, "validation_error")["fields"]) == ["until"]
    assert_error_envelope(_mute(client, room, carol, None), 404, "not_member")
    assert_error_envelope(_mute(client, room, alice, None), 400, "cannot_target_self")


def test_a_course_room_mutes_only_its_learners_and_writes_nothing_for_an_outsider():
    learner, outsider = UserFactory(), UserFactory()
    room = course_room(learner)
    tutor = client_for(room.course.tutor)
    assert_error_envelope(_mute(tutor, room, outsider, "2100-01-01T00:00:00Z"), 404, "not_member")
    assert not Membership.objects.filter(room=room, user=outsider).exists()

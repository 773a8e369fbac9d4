"""REST: friends, friend requests and blocks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from chat.models import Block, Connection, FriendRequest, Friendship
from chat.selectors.friends import are_friends
from chat.serializers import (
    BlockSerializer,
    FriendRequestSentSerializer,
    FriendRequestSerializer,
    FriendSerializer,
)
from chat.tests.factories import befriend, direct_room
from chat.tests.helpers import session_of
from core.testing import assert_error_envelope

pytestmark = pytest.mark.django_db

FRIENDS, REQUESTS, BLOCKS = "/api/chat/friends/", "/api/chat/friend-requests/", "/api/chat/blocks/"


def statuses() -> dict[int, str]:
    return dict(FriendRequest.objects.values_list("pk", "status"))


# --- Friends --------------------------------------------------------------------------------------


def test_friends_are_listed_by_username_with_whether_they_are_online():
    me, amy, zed, stranger = (UserFactory(username=n) for n in ("me", "amy", "zed", "stranger"))
    befriend(me, zed)
    befriend(amy, me)
    Connection.objects.create(
        channel_name="c1", user=zed, session=session_of(zed), seen_at=timezone.now()
    )
    response = client_for(me).get(FRIENDS)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(f["username"], f["online"]) for f in results] == [("amy", False), ("zed", True)]
    assert set(results[0]) == set(FriendSerializer().fields)
    assert stranger.pk not in [f["id"] for f in results]


def test_the_friend_list_runs_as_many_queries_for_1_friend_as_for_30():
    me = UserFactory()
    client = client_for(me)
    client.get(FRIENDS)  # the session's check is cached from here on
    befriend(me, UserFactory())
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(FRIENDS, {"page_size": 100}).status_code == 200
        counts.append(len(queries))
        for friend in UserFactory.create_batch(29):
            befriend(me, friend)
    assert counts[0] == counts[1]


def test_removing_a_friend_ends_it_both_ways_and_the_direct_room_goes_quiet():
    me, friend = UserFactory(), UserFactory()
    room = direct_room(me, friend)
    response = client_for(friend).delete(f"{FRIENDS}{me.pk}/")
    assert response.status_code == 204
    assert not are_friends(me.pk, friend.pk)
    sent = client_for(me).post(
        f"/api/chat/rooms/{room.pk}/messages/", {"client_msg_id": "a", "body": "hi"}, "json"
    )
    assert_error_envelope(sent, 403, "not_friends")
    assert_error_envelope(client_for(friend).delete(f"{FRIENDS}{me.pk}/"), 404, "not_found")


@pytest.mark.parametrize("user_id", [0, 2**63 - 1, 2**63, 10**30])
def test_removing_someone_who_is_not_a_friend_is_404(user_id):
    me, friend = UserFactory(), UserFactory()
    befriend(me, friend)
    assert_error_envelope(client_for(me).delete(f"{FRIENDS}{user_id}/"), 404, "not_found")
    assert Friendship.objects.count() == 1


# --- Friend requests ------------------------------------------------------------------------------


def test_a_request_is_sent_listed_both_ways_and_accepted():
    me, other = UserFactory(), UserFactory()
    sent = client_for(me).post(REQUESTS, {"user": other.pk}, "json")
    assert sent.status_code == 201
    body = sent.json()
    assert set(body) == set(FriendRequestSentSerializer().fields)
    assert (body["status"], body["accepted"], body["to_user"]["id"]) == ("pending", False, other.pk)

    incoming = client_for(other).get(REQUESTS).json()["results"]
    outgoing = client_for(me).get(REQUESTS, {"direction": "outgoing"}).json()["results"]
    assert [r["id"] for r in incoming] == [r["id"] for r in outgoing] == [body["id"]]
    assert set(incoming[0]) == set(FriendRequestSerializer().fields)
    assert client_for(me).get(REQUESTS).json()["results"] == []

    accepted = client_for(other).post(f"{REQUESTS}{body['id']}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert are_friends(me.pk, other.pk)
    assert client_for(other).get(REQUESTS).json()["results"] == []


def test_asking_someone_who_already_asked_makes_friends_at_once():
    me, other = UserFactory(), UserFactory()
    theirs = client_for(other).post(REQUESTS, {"user": me.pk}, "json").json()
    mine = client_for(me).post(REQUESTS, {"user": other.pk}, "json")
    assert mine.status_code == 201
    assert (mine.json()["id"], mine.json()["accepted"]) == (theirs["id"], True)
    assert are_friends(me.pk, other.pk)
    assert FriendRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("case", "status_code", "code"),
    [
        ("twice", 409, "friend_request_pending"),
        ("friends", 409, "already_friends"),
        ("blocked", 403, "blocked"),
        ("self", 400, "cannot_target_self"),
        ("unknown", 404, "not_found"),
    ],
)
def test_a_request_that_cannot_be_sent_is_refused(case, status_code, code):
    me, other = UserFactory(), UserFactory()
    target = other.pk
    if case == "twice":
        FriendRequest.objects.create(from_user=me, to_user=other)
    elif case == "friends":
        befriend(me, other)
    elif case == "blocked":
        Block.objects.create(blocker=other, blocked=me)
    elif case == "self":
        target = me.pk
    elif case == "unknown":
        target = 2**63 - 1
    before = statuses()
    response = client_for(me).post(REQUESTS, {"user": target}, "json")
    assert_error_envelope(response, status_code, code)
    assert statuses() == before


def test_only_the_addressee_answers_and_only_the_sender_cancels():
    me, other, mallory = UserFactory(), UserFactory(), UserFactory()
    request = FriendRequest.objects.create(from_user=me, to_user=other)
    url = f"{REQUESTS}{request.pk}/"
    for client in (client_for(me), client_for(mallory)):
        assert_error_envelope(client.post(f"{url}accept/"), 404, "not_found")
        assert_error_envelope(client.post(f"{url}decline/"), 404, "not_found")
    for client in (client_for(other), client_for(mallory)):
        assert_error_envelope(client.delete(url), 404, "not_found")
    assert statuses() == {request.pk: "pending"}
    assert not Friendship.objects.exists()


def test_a_declined_request_cannot_be_accepted_later():
    me, other = UserFactory(), UserFactory()
    request = FriendRequest.objects.create(from_user=me, to_user=other)
    declined = client_for(other).post(f"{REQUESTS}{request.pk}/decline/")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    late = client_for(other).post(f"{REQUESTS}{request.pk}/accept/")
    assert_error_envelope(late, 404, "not_found")
    assert statuses() == {request.pk: "declined"} and not Friendship.objects.exists()


def test_the_sender_cancels_a_pending_request():
    me, other = UserFactory(), UserFactory()
    request = FriendRequest.objects.create(from_user=me, to_user=other)
    assert client_for(me).delete(f"{REQUESTS}{request.pk}/").status_code == 204
    assert statuses() == {request.pk: "cancelled"}
    assert_error_envelope(client_for(me).delete(f"{REQUESTS}{request.pk}/"), 404, "not_found")


def test_a_request_from_someone_blocked_since_cannot_be_accepted():
    me, other = UserFactory(), UserFactory()
    request = FriendRequest.objects.create(from_user=other, to_user=me)
    Block.objects.create(blocker=other, blocked=me)
    response = client_for(me).post(f"{REQUESTS}{request.pk}/accept/")
    assert_error_envelope(response, 403, "blocked")
    assert not Friendship.objects.exists()


@pytest.mark.parametrize("query", [{"direction": "sideways"}, {"direction": "Incoming"}])
def test_an_unknown_direction_is_400(query):
    response = client_for(UserFactory()).get(REQUESTS, query)
    assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["direction"]


@pytest.mark.parametrize("value", [None, "", 1.5, "abc", True, 0, -3, 2**63, {"id": 1}])
def test_a_bad_user_id_in_a_request_is_400(value):
    response = client_for(UserFactory()).post(REQUESTS, {"user": value}, "json")
    assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["user"]
    assert not FriendRequest.objects.exists()


# --- Blocks ---------------------------------------------------------------------------------------


def test_a_block_ends_the_friendship_and_pending_requests_and_stops_messages_both_ways():
    me, other = UserFactory(), UserFactory()
    room = direct_room(me, other)
    request = FriendRequest.objects.create(from_user=other, to_user=me, status="pending")
    Friendship.objects.all().delete()  # a pending request needs them not to be friends yet
    befriend(me, other)

    response = client_for(me).post(BLOCKS, {"user": other.pk}, "json")

    assert response.status_code == 201
    assert set(response.json()) == set(BlockSerializer().fields)
    assert response.json()["user"]["id"] == other.pk
    assert not are_friends(me.pk, other.pk)
    assert statuses() == {request.pk: "cancelled"}
    for sender in (me, other):
        sent = client_for(sender).post(
            f"/api/chat/rooms/{room.pk}/messages/", {"client_msg_id": "x", "body": "hi"}, "json"
        )
        assert_error_envelope(sent, 403, "blocked")
    again = client_for(me).post(BLOCKS, {"user": other.pk}, "json")
    assert again.status_code == 200 and Block.objects.count() == 1


def test_blocks_are_listed_and_lifted_by_the_blocker_only():
    me, other = UserFactory(), UserFactory()
    Block.objects.create(blocker=me, blocked=other)
    listed = client_for(me).get(BLOCKS).json()["results"]
    assert [b["user"]["id"] for b in listed] == [other.pk]
    assert client_for(other).get(BLOCKS).json()["results"] == []
    assert_error_envelope(client_for(other).delete(f"{BLOCKS}{me.pk}/"), 404, "not_found")
    assert Block.objects.count() == 1
    assert client_for(me).delete(f"{BLOCKS}{other.pk}/").status_code == 204
    assert not Block.objects.exists()
    assert_error_envelope(client_for(me).delete(f"{BLOCKS}{other.pk}/"), 404, "not_found")


@pytest.mark.parametrize(("target", "code"), [("self", "cannot_target_self"), (2**62, "not_found")])
def test_blocking_oneself_or_nobody_is_refused(target, code):
    me = UserFactory()
    user_id = me.pk if target == "self" else target
    response = client_for(me).post(BLOCKS, {"user": user_id}, "json")
    assert_error_envelope(response, 400 if target == "self" else 404, code)
    assert not Block.objects.exists()

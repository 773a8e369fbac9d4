"""message.send over the socket: delivery to every member socket in order, retries, and every
reason to refuse (another room, no longer friends, blocked, muted, a reply elsewhere, too fast)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.models import Friendship, Membership, Message
from chat.services.friends import block_create, friend_remove
from chat.tests.factories import direct_room, group_room, message_write
from chat.tests.helpers import open_socket, sync

pytestmark = pytest.mark.django_db(transaction=True)


def _send(room, client_msg_id: str = "m1", body: str = "hi", **extra) -> dict:
    return {"type": "message.send", "room": room.pk, "client_msg_id": client_msg_id,
            "body": body, **extra}  # fmt: skip


def _users(count: int):
    return sync(lambda: [UserFactory() for _ in range(count)])()


def _message_count() -> int:
    return Message.objects.count()


async def test_messages_reach_every_member_socket_in_order_with_contiguous_seqs():
    alice, bob, carol = await _users(3)
    room = await sync(group_room)(alice, bob, carol)
    alice_1, alice_2 = await open_socket(alice), await open_socket(alice)
    bob_socket, carol_socket = await open_socket(bob), await open_socket(carol)
    for number in range(1, 4):
        ack = await alice_1.request(_send(room, f"m{number}", f"hello {number}", ref=number),
                                    "message.ack")  # fmt: skip
        assert ack["type"] == "message.ack", ack
        assert (ack["ref"], ack["client_msg_id"], ack["room"], ack["seq"]) == (
            number,
            f"m{number}",
            room.pk,
            number,
        )
    for socket in (alice_1, alice_2, bob_socket, carol_socket):
        news = [await socket.receive_type("message.new") for _ in range(3)]
        assert [new["message"]["seq"] for new in news] == [1, 2, 3]
        assert [new["message"]["body"] for new in news] == ["hello 1", "hello 2", "hello 3"]
        assert news[0]["message"]["sender"]["id"] == alice.pk
        assert await socket.nothing_more(0.1)
    assert await sync(_message_count)() == 3


async def test_a_retried_send_is_acknowledged_again_without_a_second_message():
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    alice_socket, bob_socket = await open_socket(alice), await open_socket(bob)
    first = await alice_socket.request(_send(room), "message.ack")
    again = await alice_socket.request(_send(room), "message.ack")
    assert (again["id"], again["seq"]) == (first["id"], first["seq"])
    assert (await bob_socket.receive_type("message.new"))["message"]["id"] == first["id"]
    assert await bob_socket.nothing_more()
    assert await sync(_message_count)() == 1
    # The same id for another text or room is not a retry.
    reused = await alice_socket.error(_send(room, body="something else"))
    assert reused["code"] == "client_msg_id_reused"
    assert await sync(_message_count)() == 1


async def test_another_rooms_id_is_not_found_and_writes_nothing():
    alice, bob, carol, dave = await _users(4)
    await sync(direct_room)(alice, bob)
    theirs = await sync(direct_room)(carol, dave)
    socket = await open_socket(alice)
    assert (await socket.error(_send(theirs)))["code"] == "not_found"
    assert (await socket.error(_send(theirs, body="x") | {"room": 2**62}))["code"] == "not_found"
    assert await sync(_message_count)() == 0


def _unfriend(alice, bob) -> None:
    friend_remove(user=alice, user_id=bob.pk)


@pytest.mark.parametrize(
    ("end", "code"),
    [
        (_unfriend, "not_friends"),
        (lambda alice, bob: block_create(user=alice, user_id=bob.pk), "blocked"),
        (lambda alice, bob: block_create(user=bob, user_id=alice.pk), "blocked"),
    ],
    ids=["unfriended", "blocked-by-sender", "blocked-by-recipient"],
)
async def test_a_direct_room_refuses_messages_once_the_friendship_ends(end, code):
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    alice_socket, bob_socket = await open_socket(alice), await open_socket(bob)
    await sync(end)(alice, bob)
    assert not await sync(Friendship.objects.exists)()
    assert (await alice_socket.error(_send(room)))["code"] == code
    assert (await bob_socket.error(_send(room, "b1")))["code"] == code
    assert await sync(_message_count)() == 0
    # Typing is refused alike, so the other does not see it either.
    assert (await alice_socket.error({"type": "typing", "room": room.pk}))["code"] == code
    assert (await bob_socket.receive())["type"] == "friend.removed"
    assert await bob_socket.nothing_more()


async def test_a_muted_member_cannot_post_until_the_mute_ends():
    alice, bob = await _users(2)
    room = await sync(group_room)(alice, bob)
    until = timezone.now() + timedelta(minutes=5)
    await sync(Membership.objects.filter(room=room, user=bob).update)(muted_until=until)
    socket = await open_socket(bob)
    assert (await socket.error(_send(room)))["code"] == "muted"
    assert await sync(_message_count)() == 0
    await sync(Membership.objects.filter(room=room, user=bob).update)(
        muted_until=timezone.now() - timedelta(seconds=1)
    )
    assert (await socket.request(_send(room), "message.ack"))["type"] == "message.ack"


async def test_a_reply_must_answer_a_message_of_the_same_room():
    alice, bob, carol = await _users(3)
    room = await sync(direct_room)(alice, bob)
    elsewhere = await sync(direct_room)(alice, carol)
    other_message = await sync(message_write)(elsewhere, alice)
    own_message = await sync(message_write)(room, bob)
    socket = await open_socket(alice)
    refused = await socket.error(_send(room, reply_to=other_message.pk))
    assert refused["code"] == "reply_not_in_room" and "reply_to" in refused["fields"]
    assert (await socket.error(_send(room, reply_to=10**12)))["code"] == "reply_not_in_room"
    assert await sync(_message_count)() == 2
    ack = await socket.request(_send(room, reply_to=own_message.pk), "message.ack")
    new = await socket.receive_type("message.new")
    assert new["message"]["id"] == ack["id"] and new["message"]["reply_to"] == own_message.pk


async def test_too_many_messages_are_throttled_then_the_socket_is_closed_4008(settings):
    settings.CHAT_MESSAGE_RATE = 0.5
    settings.CHAT_MESSAGE_BURST = 2
    settings.CHAT_REFUSALS_BEFORE_CLOSE = 3
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    socket = await open_socket(alice)
    for number in range(2):
        ack = await socket.request(_send(room, f"m{number}"), "message.ack")
        assert ack["type"] == "message.ack"
    for number in range(2, 5):
        refused = await socket.error(_send(room, f"m{number}"))
        assert refused["code"] == "throttled" and refused["retry_after"] >= 1
    assert await socket.closed_code() == 4008
    assert await sync(_message_count)() == 2


async def test_a_success_between_refusals_resets_the_count(settings):
    settings.CHAT_MESSAGE_RATE = 0.5
    settings.CHAT_MESSAGE_BURST = 1
    settings.CHAT_REFUSALS_BEFORE_CLOSE = 2
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    socket = await open_socket(alice)
    await socket.request(_send(room, "m0"), "message.ack")
    assert (await socket.error(_send(room, "m1")))["code"] == "throttled"
    assert (await socket.request({"type": "ping"}, "pong"))["type"] == "pong"
    assert (await socket.error(_send(room, "m2")))["code"] == "throttled"
    assert (await socket.receive_type("message.new"))["message"]["client_msg_id"] == "m0"
    assert await socket.nothing_more()

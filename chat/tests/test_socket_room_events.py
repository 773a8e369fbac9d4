"""Edits, deletions, read markers, typing, resume, and in-order delivery when broadcasts arrive
out of order."""

import pytest
from channels.layers import get_channel_layer

from accounts.tests.factories import UserFactory
from chat import broadcast
from chat.models import Membership, Message
from chat.payloads import message_data
from chat.tests.factories import direct_room, group_room, message_write
from chat.tests.helpers import open_socket, sync

pytestmark = pytest.mark.django_db(transaction=True)


def _users(count: int):
    return sync(lambda: [UserFactory() for _ in range(count)])()


def _message(pk: int) -> Message:
    return Message.objects.get(pk=pk)


async def test_the_author_edits_and_every_member_sees_it_once():
    alice, bob = await _users(2)
    room = await sync(group_room)(alice, bob)
    message = await sync(message_write)(room, bob, "helo")
    bob_socket, alice_socket = await open_socket(bob), await open_socket(alice)
    await bob_socket.send({"type": "message.edit", "message": message.pk, "body": "hello"})
    for socket in (bob_socket, alice_socket):
        updated = await socket.receive_type("message.updated")
        assert updated["message"]["body"] == "hello" and updated["message"]["edited_at"]
    refused = await alice_socket.error({"type": "message.edit", "message": message.pk,
                                        "body": "mine now"})  # fmt: skip
    assert refused["code"] == "not_message_author"
    assert (await sync(_message)(message.pk)).body == "hello"


async def test_a_moderator_deletes_anyones_message_and_a_member_only_their_own():
    alice, bob, carol = await _users(3)
    room = await sync(group_room)(alice, bob, carol)  # alice created it: its moderator
    bobs = await sync(message_write)(room, bob, "rude")
    bob_socket, carol_socket = await open_socket(bob), await open_socket(carol)
    alice_socket = await open_socket(alice)
    refused = await carol_socket.error({"type": "message.delete", "message": bobs.pk})
    assert refused["code"] == "not_message_author"
    await alice_socket.send({"type": "message.delete", "message": bobs.pk})
    for socket in (alice_socket, bob_socket, carol_socket):
        deleted = await socket.receive_type("message.deleted")
        assert deleted["message"]["deleted"] is True and deleted["message"]["body"] == ""
        assert deleted["message"]["seq"] == bobs.seq
    stored = await sync(_message)(bobs.pk)
    assert stored.body == "" and stored.deleted_at is not None
    edit = await bob_socket.error({"type": "message.edit", "message": bobs.pk, "body": "again"})
    assert edit["code"] == "message_deleted"


async def test_a_message_of_another_room_cannot_be_edited_or_deleted():
    alice, bob, carol = await _users(3)
    await sync(direct_room)(alice, bob)
    theirs = await sync(direct_room)(bob, carol)
    message = await sync(message_write)(theirs, bob)
    socket = await open_socket(alice)
    for frame in ({"type": "message.edit", "message": message.pk, "body": "x"},
                  {"type": "message.delete", "message": message.pk}):  # fmt: skip
        assert (await socket.error(frame))["code"] == "not_found"
    assert (await sync(_message)(message.pk)).body == "hello"


def _marker(room, user) -> int:
    return Membership.objects.get(room=room, user=user).last_read_seq


async def test_read_moves_the_marker_forward_only_capped_at_the_last_message():
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    for _ in range(3):
        await sync(message_write)(room, alice)
    bob_socket, alice_socket = await open_socket(bob), await open_socket(alice)
    await bob_socket.send({"type": "read", "room": room.pk, "seq": 2})
    for socket in (bob_socket, alice_socket):
        assert await socket.receive() == {
            "type": "read.updated",
            "room": room.pk,
            "user": bob.pk,
            "seq": 2,
        }
    await bob_socket.send({"type": "read", "room": room.pk, "seq": 1})  # backwards: silent
    await bob_socket.send({"type": "read", "room": room.pk, "seq": 2**62})
    assert (await alice_socket.receive())["seq"] == 3
    assert await sync(_marker)(room, bob) == 3
    assert await alice_socket.nothing_more()


async def test_typing_reaches_the_others_not_the_sender_and_is_throttled(settings):
    settings.CHAT_TYPING_INTERVAL_SECONDS = 60
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    alice_socket, alice_other = await open_socket(alice), await open_socket(alice)
    bob_socket = await open_socket(bob)
    await alice_socket.send({"type": "typing", "room": room.pk})
    await alice_socket.send({"type": "typing", "room": room.pk})  # within the interval
    assert await bob_socket.receive() == {"type": "typing", "room": room.pk, "user": alice.pk}
    assert await bob_socket.nothing_more()
    assert await alice_socket.nothing_more(0.05) and await alice_other.nothing_more(0.05)


async def test_resume_sends_exactly_the_missed_messages_then_resume_done():
    alice, bob, carol = await _users(3)
    room = await sync(direct_room)(alice, bob)
    theirs = await sync(direct_room)(bob, carol)
    for number in range(1, 6):
        await sync(message_write)(room, bob, f"m{number}")
    socket = await open_socket(alice)
    await socket.send({"type": "resume", "rooms": {str(room.pk): 2}, "ref": "r"})
    frames = [await socket.receive() for _ in range(4)]
    assert [frame["message"]["seq"] for frame in frames[:3]] == [3, 4, 5]
    assert frames[3] == {"type": "resume.done", "ref": "r"}
    await socket.send({"type": "resume", "rooms": {str(theirs.pk): 0, "\u0661": 0, "\u00b2": 0}})
    assert [(await socket.receive())["type"] for _ in range(4)] == [
        "error",
        "error",
        "error",
        "resume.done",
    ]
    assert await socket.nothing_more()


async def test_resume_beyond_the_limit_asks_for_a_resync_and_then_delivers_live(settings):
    settings.CHAT_RESUME_LIMIT = 2
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    for _ in range(4):
        await sync(message_write)(room, bob)
    socket = await open_socket(alice)
    await socket.send({"type": "resume", "rooms": {str(room.pk): 0}})
    assert await socket.receive() == {"type": "resync_required", "room": room.pk}
    assert (await socket.receive())["type"] == "resume.done"
    bob_socket = await open_socket(bob)
    await bob_socket.send({"type": "message.send", "room": room.pk, "client_msg_id": "n",
                           "body": "live"})  # fmt: skip
    assert (await socket.receive())["message"]["seq"] == 5
    assert await socket.nothing_more()


async def test_a_broadcast_that_overtakes_another_is_delivered_in_order_once():
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    await sync(message_write)(room, bob, "one")
    socket = await open_socket(alice)  # has seen seq 1
    second = await sync(message_write)(room, bob, "two")
    third = await sync(message_write)(room, bob, "three")
    layer = get_channel_layer()
    for message in (third, second):  # 3's news arrives before 2's
        loaded = await sync(Message.objects.select_related("sender").get)(pk=message.pk)
        await layer.group_send(
            broadcast.room_group(room.pk),
            {"type": broadcast.EVENT_TYPE, "room": room.pk, "seq": message.seq,
             "frame": {"type": "message.new", "message": await sync(message_data)(loaded)}},
        )  # fmt: skip
    received = [(await socket.receive())["message"]["body"] for _ in range(2)]
    assert received == ["two", "three"]
    assert await socket.nothing_more()


async def test_an_edit_that_overtakes_its_message_is_preceded_by_the_message():
    alice, bob = await _users(2)
    room = await sync(direct_room)(alice, bob)
    socket = await open_socket(alice)
    bob_socket = await open_socket(bob)
    message = await sync(message_write)(room, bob, "draft")  # its news is late
    await bob_socket.send({"type": "message.edit", "message": message.pk, "body": "final"})
    first = await socket.receive()
    assert (first["type"], first["message"]["body"]) == ("message.new", "final")
    assert (await socket.receive())["type"] == "message.updated"

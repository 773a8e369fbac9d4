import pytest
from channels.db import database_sync_to_async

from accounts.tests.factories import UserFactory
from chat.services.friends import friend_request_accept, friend_request_send
from chat.services.rooms import direct_room_open
from chat.tests.helpers import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def _friends_with_room():
    alice, bob = UserFactory(), UserFactory()
    request, _ = friend_request_send(user=alice, user_id=bob.pk)
    friend_request_accept(user=bob, request_id=request.pk)
    room, _ = direct_room_open(user=alice, user_id=bob.pk)
    return alice, bob, room


async def test_a_message_reaches_the_other_friend():
    alice, bob, room = await database_sync_to_async(_friends_with_room)()
    a = await open_socket(alice)
    b = await open_socket(bob)
    await a.send({"type": "message.send", "room": room.pk, "client_msg_id": "m1", "body": "hi"})
    ack = await a.receive_type("message.ack")
    assert ack["seq"] == 1
    new = await b.receive_type("message.new")
    assert new["message"]["body"] == "hi" and new["message"]["seq"] == 1
    await a.close()
    await b.close()

"""No frame type is free to flood a socket with: every frame takes one of the socket's
CHAT_FRAME_RATE (pings, read markers, typing, resumes, deletes and frames that do not even
parse), a room is resumed once per socket, and deletions count against the message rate."""

import json

import pytest

from accounts.tests.factories import UserFactory
from chat.limits import FrameBudget
from chat.models import Message
from chat.tests.factories import direct_room, message_write
from chat.tests.helpers import open_socket, sync

pytestmark = pytest.mark.django_db(transaction=True)

UNKNOWN = 2**62


async def _pair_in_a_room():
    alice, bob = await sync(lambda: [UserFactory(), UserFactory()])()
    return alice, bob, await sync(direct_room)(alice, bob)


async def _answer_to(socket, ref: str) -> dict:
    while (frame := await socket.receive()).get("ref") != ref:
        pass
    return frame


FLOODS = {
    "ping": lambda room: {"type": "ping"},
    "read": lambda room: {"type": "read", "room": room.pk, "seq": 0},
    "typing": lambda room: {"type": "typing", "room": room.pk},
    "resume of a room not theirs": lambda room: {"type": "resume", "rooms": {str(UNKNOWN): 0}},
    "delete of no message": lambda room: {"type": "message.delete", "message": UNKNOWN},
    "unknown type": lambda room: {"type": "flood"},
    "not json": lambda room: "{",
}


@pytest.mark.parametrize("flood", FLOODS.values(), ids=FLOODS.keys())
async def test_every_kind_of_frame_spends_the_sockets_budget(settings, flood):
    settings.CHAT_FRAME_RATE = 0.05  # one frame back per 20 s: none comes back during the test
    settings.CHAT_FRAME_BURST = 3
    settings.CHAT_REFUSALS_BEFORE_CLOSE = 3
    alice, _bob, room = await _pair_in_a_room()
    socket = await open_socket(alice)  # its first frame (a ping) is one of the three
    limits = socket.hello["limits"]  # what a client paces itself by is what is enforced
    assert (limits["frames_per_second"], limits["frame_burst"]) == (0.05, 3)
    for _ in range(2):
        frame = flood(room)
        await socket.send_text(frame if isinstance(frame, str) else json.dumps(frame))
    send = {"type": "message.send", "room": room.pk, "client_msg_id": "over", "body": "hi"}
    await socket.send({**send, "ref": "over"})
    refused = await _answer_to(socket, "over")
    assert (refused["type"], refused["code"]) == ("error", "throttled")
    assert refused["retry_after"] >= 1
    assert refused["message"] == "Too many frames on this socket. Slow down."
    for number in range(2):  # two more refusals in a row: the third closes the socket
        await socket.send({"type": "ping", "ref": f"more-{number}"})
    assert await socket.closed_code() == 4008
    assert not await sync(Message.objects.filter(client_msg_id="over").exists)()


def test_the_budget_gives_the_burst_at_once_then_one_frame_per_interval(settings):
    settings.CHAT_FRAME_RATE = 4.0
    settings.CHAT_FRAME_BURST = 3
    budget = FrameBudget()
    assert [budget.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert budget.take(100.0) == pytest.approx(0.25)
    assert budget.take(100.1) == pytest.approx(0.15)  # a refusal takes nothing
    assert budget.take(100.25) == 0.0
    assert budget.take(100.25) > 0
    assert [budget.take(101.0) for _ in range(3)] == [0.0, 0.0, 0.0]  # the burst refilled
    assert budget.take(101.0) > 0


async def test_a_room_is_resumed_once_per_socket():
    alice, bob, room = await _pair_in_a_room()
    for number in range(1, 4):
        await sync(message_write)(room, bob, f"m{number}")
    socket = await open_socket(alice)
    await socket.send({"type": "resume", "rooms": {str(room.pk): 0}, "ref": "first"})
    frames = [await socket.receive() for _ in range(4)]
    assert [frame["message"]["seq"] for frame in frames[:3]] == [1, 2, 3]
    assert frames[3] == {"type": "resume.done", "ref": "first"}
    # Again, from the start: what would be up to CHAT_RESUME_LIMIT messages for a small frame.
    await socket.send({"type": "resume", "rooms": {str(room.pk): 0}, "ref": "again"})
    refused = await socket.receive()
    assert (refused["type"], refused["code"], refused["ref"]) == ("error", "invalid_frame", "again")
    assert list(refused["fields"]) == [str(room.pk)]
    assert await socket.receive() == {"type": "resume.done", "ref": "again"}
    assert await socket.nothing_more()
    # Once per socket, not per user: a reconnecting client's new socket resumes as usual.
    other = await open_socket(alice)
    await other.send({"type": "resume", "rooms": {str(room.pk): 2}})
    assert (await other.receive())["message"]["seq"] == 3
    assert (await other.receive())["type"] == "resume.done"

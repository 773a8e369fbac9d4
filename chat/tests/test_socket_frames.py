"""Frames the server cannot use get an `error` (or a close code) and write nothing; the socket
stays usable after a recoverable error."""

import pytest

from accounts.tests.factories import UserFactory
from chat.models import Message, Room
from chat.tests.factories import direct_room
from chat.tests.helpers import open_socket, sync

pytestmark = pytest.mark.django_db(transaction=True)


async def _alice_in_a_room():
    alice, bob = await sync(lambda: [UserFactory(), UserFactory()])()
    room = await sync(direct_room)(alice, bob)
    return await open_socket(alice), room


def _writes() -> tuple[int, int]:
    return Message.objects.count(), sum(Room.objects.values_list("last_seq", flat=True))


async def _still_usable(socket) -> None:
    await socket.send({"type": "ping", "ref": "p"})
    assert await socket.receive() == {"type": "pong", "ref": "p"}


MALFORMED = [
    ("{not json", "invalid_frame"),
    ("", "invalid_frame"),
    ("[1, 2]", "invalid_frame"),
    ('"message.send"', "invalid_frame"),
    ("null", "invalid_frame"),
    ("{}", "invalid_frame"),
    ('{"type": 1}', "invalid_frame"),
    ('{"type": null}', "invalid_frame"),
    ('{"type": ["ping"]}', "invalid_frame"),
    ('{"type": "message.sendx"}', "unknown_type"),
    ('{"type": "chat.event"}', "unknown_type"),  # a server-side handler name
    ('{"type": "session_ended"}', "unknown_type"),
    ('{"type": "\uff50ing"}', "unknown_type"),  # fullwidth look-alike, JSON-escaped
    ('{"type": "ping", "x": NaN}', "invalid_frame"),
    ('{"type": "ping", "x": Infinity}', "invalid_frame"),
    ('{"type": "ping", "x": -Infinity}', "invalid_frame"),
    ('{"type": "ping", "x": ' + "9" * 5000 + "}", "invalid_frame"),
    ("[" * 5000 + "]" * 5000, "invalid_frame"),
]


async def test_each_malformed_frame_gets_an_error_and_the_socket_stays_usable():
    """One socket for every case (a socket per case would only test the first error)."""
    socket, _room = await _alice_in_a_room()
    for text, code in MALFORMED:
        await socket.send_text(text)
        error = await socket.receive()
        assert error["type"] == "error" and error["code"] == code, (text[:40], error)
        await _still_usable(socket)
    assert await sync(_writes)() == (0, 0)


async def test_a_room_id_that_is_not_a_small_non_negative_integer_is_refused():
    socket, real_room = await _alice_in_a_room()
    for room in ["1", str(real_room.pk), 1.0, True, None, -1, 2**63, 10**30, {"id": 1}, [1]]:
        error = await socket.error(
            {"type": "message.send", "room": room, "client_msg_id": "m1", "body": "hi"}
        )
        assert error["code"] == "invalid_frame" and "room" in error["fields"], (room, error)
    assert await sync(_writes)() == (0, 0)
    await _still_usable(socket)


BAD_FIELDS = [
    ({"body": ""}, "body"),
    ({"body": "   \n\t"}, "body"),
    ({"body": "x" * 4001}, "body"),
    ({"body": 5}, "body"),
    ({"body": None}, "body"),
    ({"body": "nul\x00"}, "body"),
    ({"body": "\ud800"}, "body"),
    ({"client_msg_id": ""}, "client_msg_id"),
    ({"client_msg_id": "x" * 65}, "client_msg_id"),
    ({"client_msg_id": "\uff4d1"}, "client_msg_id"),  # fullwidth m
    ({"client_msg_id": "a b"}, "client_msg_id"),
    ({"client_msg_id": 12}, "client_msg_id"),
    ({"reply_to": "1"}, "reply_to"),
    ({"reply_to": 1.5}, "reply_to"),
    ({"reply_to": False}, "reply_to"),
]


async def test_a_bad_field_of_a_message_is_refused_and_writes_nothing():
    socket, room = await _alice_in_a_room()
    frame = {"type": "message.send", "room": room.pk, "client_msg_id": "m1", "body": "hi"}
    for ref, (changes, field) in enumerate(BAD_FIELDS):
        error = await socket.error({**frame, **changes, "ref": ref})
        assert error["code"] == "invalid_frame" and field in error["fields"], (changes, error)
        assert error["ref"] == ref
    assert await sync(_writes)() == (0, 0)
    await _still_usable(socket)


async def test_a_frame_of_4000_characters_of_multibyte_text_is_accepted():
    socket, room = await _alice_in_a_room()
    body = "가" * 4000  # 12,000 bytes in UTF-8, under the 16 KiB frame limit
    ack = await socket.request(
        {"type": "message.send", "room": room.pk, "client_msg_id": "m1", "body": body},
        "message.ack",
    )
    assert ack["type"] == "message.ack" and ack["seq"] == 1


async def test_an_oversized_frame_is_refused_and_closes_1009(settings):
    settings.CHAT_MAX_FRAME_BYTES = 1000
    socket, room = await _alice_in_a_room()
    # Under the limit in characters, over it in UTF-8 bytes.
    body = "가" * 400
    await socket.send({"type": "message.send", "room": room.pk, "client_msg_id": "m", "body": body})
    error = await socket.receive()
    assert error["type"] == "error" and error["code"] == "frame_too_large"
    assert await socket.closed_code() == 1009
    assert await sync(_writes)() == (0, 0)


async def test_a_binary_frame_is_refused():
    socket, _room = await _alice_in_a_room()
    await socket.comm.send_to(bytes_data=b'{"type": "ping"}')
    error = await socket.receive()
    assert error["type"] == "error" and error["code"] == "invalid_frame"
    await _still_usable(socket)


async def test_a_ref_that_is_not_a_string_or_integer_is_not_echoed():
    socket, _room = await _alice_in_a_room()
    for ref in [True, {"a": 1}, [1], 1.5]:
        await socket.send({"type": "ping", "ref": ref})
        assert await socket.receive() == {"type": "pong", "ref": None}


OTHER_BAD_FRAMES = [
    {"type": "message.edit", "message": "1", "body": "x"},
    {"type": "message.delete", "message": None},
    {"type": "read", "room": 1, "seq": -1},
    {"type": "read", "room": 1, "seq": 1.0},
    {"type": "typing", "room": True},
    {"type": "resume", "rooms": [1, 2]},
    {"type": "resume", "rooms": "1"},
]


async def test_other_frames_with_fields_of_the_wrong_shape_are_refused():
    socket, _room = await _alice_in_a_room()
    for frame in OTHER_BAD_FRAMES:
        error = await socket.error(frame)
        assert error["code"] == "invalid_frame", (frame, error)
    assert await sync(_writes)() == (0, 0)
    await _still_usable(socket)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("ko-KR,ko;q=0.9,en;q=0.5", "알 수 없는 프레임 종류입니다."),
        ("fr-FR, ko;q=0.8", "알 수 없는 프레임 종류입니다."),
        ("en-US,en;q=0.9", "Unknown frame type."),
        ("xx, *;q=0.1", "Unknown frame type."),
    ],
)
async def test_errors_speak_the_language_the_handshake_asked_for(accept_language, expected):
    alice = await sync(UserFactory)()
    socket = await open_socket(alice, language=accept_language)
    await socket.send_text('{"type": "shout"}')
    error = await socket.receive()
    assert (error["code"], error["message"]) == ("unknown_type", expected)


async def test_field_errors_are_translated_too():
    socket, room = await _alice_in_a_room()
    korean = await open_socket(await sync(lambda: room.memberships.first().user)(), language="ko")
    await korean.send({"type": "message.send", "room": room.pk, "client_msg_id": "k", "body": " "})
    error = await korean.receive_type("error")
    assert error["code"] == "invalid_frame"
    assert error["fields"]["body"] == ["메시지가 비어 있습니다."]
    await socket.close()

"""REST: a room's history by seq cursor, and sending without a socket (idempotent by
client_msg_id, rate-limited, refused to whoever may not post)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from chat.models import Block, Message, Room
from chat.services.friends import friend_remove
from chat.tests.factories import course_room, direct_room, message_write
from core.testing import assert_error_envelope
from courses.services.enrollments import enrollment_grant, enrollment_revoke

pytestmark = pytest.mark.django_db


def messages_url(room) -> str:
    return f"/api/chat/rooms/{room.pk}/messages/"


def seqs(response) -> list[int]:
    return [message["seq"] for message in response.json()["results"]]


@pytest.fixture
def pair():
    alice, bob = UserFactory(), UserFactory()
    return alice, bob, direct_room(alice, bob)


# --- History --------------------------------------------------------------------------------------


def test_history_pages_by_seq_in_both_directions(pair):
    alice, bob, room = pair
    for n in range(7):
        message_write(room, bob if n % 2 else alice, f"m{n + 1}")
    client = client_for(alice)

    latest = client.get(messages_url(room), {"limit": 3})
    assert seqs(latest) == [5, 6, 7] and latest.json()["has_more"] is True
    earlier = client.get(messages_url(room), {"limit": 3, "before_seq": 5})
    assert seqs(earlier) == [2, 3, 4] and earlier.json()["has_more"] is True
    first = client.get(messages_url(room), {"limit": 3, "before_seq": 2})
    assert seqs(first) == [1] and first.json()["has_more"] is False
    after = client.get(messages_url(room), {"limit": 4, "after_seq": 3})
    assert seqs(after) == [4, 5, 6, 7] and after.json()["has_more"] is False
    oldest = client.get(messages_url(room)).json()["results"][0]
    assert oldest.pop("created_at").startswith(str(timezone.localdate())[:4])
    assert oldest == {
        "id": Message.objects.get(room=room, seq=1).pk,
        "room": room.pk,
        "seq": 1,
        "sender": {"id": alice.pk, "username": alice.username, "name": alice.name},
        "client_msg_id": f"w{room.pk}-1",
        "body": "m1",
        "reply_to": None,
        "edited_at": None,
        "deleted": False,
    }


@pytest.mark.parametrize(
    "query",
    [
        {"before_seq": 3, "after_seq": 1},
        {"limit": 0},
        {"limit": 101},
        {"limit": "NaN"},
        {"limit": "1e2"},
        {"limit": "2.5"},
        {"before_seq": "abc"},
        {"after_seq": -1},
        {"after_seq": str(2**63)},
        {"before_seq": "Infinity"},
        {"after_seq": "\x00"},
    ],
)
def test_bad_history_queries_are_400(pair, query):
    alice, _bob, room = pair
    response = client_for(alice).get(messages_url(room), query)
    error = assert_error_envelope(response, 400, "validation_error")
    assert set(error["fields"]) <= {"before_seq", "after_seq", "limit"}, error


def test_a_history_page_of_50_takes_at_most_4_queries_whatever_the_room_size(pair):
    alice, bob, room = pair
    client = client_for(alice)
    client.get("/api/chat/rooms/")  # the session's check is cached from here on
    counts = []
    for size in (1, 300):
        Message.objects.bulk_create(
            Message(room=room, seq=room.last_seq + n, sender=bob, client_msg_id=f"b{size}-{n}",
                    body="x")
            for n in range(1, size + 1)
        )  # fmt: skip
        room.last_seq += size
        Room.objects.filter(pk=room.pk).update(last_seq=room.last_seq)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(messages_url(room), {"limit": 50})
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(response.json()["results"]) == 50
    assert counts[0] == counts[1] <= 4


def test_a_course_rooms_history_takes_at_most_4_queries():
    learner = UserFactory()
    room = course_room(learner)
    for _ in range(60):
        message_write(room, room.course.tutor)
    client = client_for(learner)
    client.get("/api/chat/rooms/")  # the session's check is cached from here on
    with CaptureQueriesContext(connection) as queries:
        response = client.get(messages_url(room))
    assert len(response.json()["results"]) == 50
    assert len(queries) <= 4


def test_someone_elses_history_is_404_and_a_lost_course_is_403(pair):
    alice, _bob, room = pair
    message_write(room, alice, "secret")
    response = client_for(UserFactory()).get(messages_url(room))
    assert_error_envelope(response, 404, "not_found")
    assert "secret" not in response.content.decode()

    learner = UserFactory()
    course = course_room(learner)
    message_write(course, course.course.tutor, "for learners")
    client = client_for(learner)
    assert client.get(messages_url(course)).status_code == 200
    enrollment_revoke(user=learner, course=course.course)
    refused = client.get(messages_url(course))
    assert_error_envelope(refused, 403, "not_entitled")
    assert "for learners" not in refused.content.decode()


# --- Sending --------------------------------------------------------------------------------------


def _send(client, room, client_msg_id="c-1", body="hello", **extra):
    data = {"client_msg_id": client_msg_id, "body": body, **extra}
    return client.post(messages_url(room), data, format="json")


def test_a_send_is_stored_with_the_next_seq_and_moves_the_senders_marker(pair):
    alice, bob, room = pair
    message_write(room, bob)
    response = _send(client_for(alice), room, body="  hi  ")
    assert response.status_code == 201
    body = response.json()
    assert (body["seq"], body["body"], body["sender"]["id"]) == (2, "  hi  ", alice.pk)
    message = Message.objects.get(pk=body["id"])
    assert (message.seq, message.body, message.client_msg_id) == (2, "  hi  ", "c-1")
    assert Room.objects.get(pk=room.pk).last_seq == 2
    assert alice.chat_memberships.get(room=room).last_read_seq == 2


def test_a_replay_returns_the_same_message_and_another_body_is_409(pair):
    alice, bob, room = pair
    client = client_for(alice)
    first = _send(client, room, "retry-1", "once")
    again = _send(client, room, "retry-1", "once")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    changed = _send(client, room, "retry-1", "twice")
    assert_error_envelope(changed, 409, "client_msg_id_reused")
    elsewhere = direct_room(alice, UserFactory())
    assert_error_envelope(_send(client, elsewhere, "retry-1", "once"), 409, "client_msg_id_reused")
    assert list(Message.objects.values_list("body", flat=True)) == ["once"]
    # Another sender's ids are their own.
    assert _send(client_for(bob), room, "retry-1", "mine").status_code == 201


def test_a_reply_must_answer_a_message_of_the_same_room(pair):
    alice, bob, room = pair
    here = message_write(room, bob)
    there = message_write(direct_room(alice, UserFactory()), alice)
    client = client_for(alice)
    assert _send(client, room, "r1", "yes", reply_to=here.pk).json()["reply_to"] == here.pk
    refused = _send(client, room, "r2", "no", reply_to=there.pk)
    assert_error_envelope(refused, 400, "reply_not_in_room")
    assert_error_envelope(_send(client, room, "r3", "no", reply_to=2**63), 400, "validation_error")
    assert Message.objects.filter(room=room).count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("body", ""),
        ("body", "   \n\t "),
        ("body", "a\x00b"),
        ("body", "x" * 4001),
        ("body", 42),
        ("body", None),
        ("body", ["hi"]),
        ("client_msg_id", ""),
        ("client_msg_id", "has space"),
        ("client_msg_id", "x" * 65),
        ("client_msg_id", 12345),
        ("client_msg_id", "\uff43\uff11"),  # fullwidth look-alikes of "c1"
        ("reply_to", 1.5),
        ("reply_to", "NaN"),
        ("reply_to", True),
    ],
)
def test_bad_send_input_is_400_naming_the_field_and_writes_nothing(pair, field, value):
    alice, _bob, room = pair
    data = {"client_msg_id": "ok-1", "body": "hello", field: value}
    response = client_for(alice).post(messages_url(room), data, format="json")
    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert not Message.objects.exists()
    assert Room.objects.get(pk=room.pk).last_seq == 0


def test_a_lone_surrogate_or_nan_in_the_json_is_refused(pair):
    alice, _bob, room = pair
    client = client_for(alice)
    surrogate = '{"client_msg_id": "s1", "body": "abc\\ud800def"}'
    response = client.post(messages_url(room), surrogate, content_type="application/json")
    assert list(assert_error_envelope(response, 400, "validation_error")["fields"]) == ["body"]
    nan = '{"client_msg_id": "s1", "body": "x", "reply_to": NaN}'
    response = client.post(messages_url(room), nan, content_type="application/json")
    assert_error_envelope(response, 400, "parse_error")
    assert not Message.objects.exists()


def test_a_body_of_4000_characters_including_emoji_is_stored_whole(pair):
    alice, _bob, room = pair
    body = "😀" * 2000 + "한" * 2000
    response = _send(client_for(alice), room, body=body)
    assert response.status_code == 201
    assert Message.objects.get().body == body


@pytest.mark.parametrize("who", ["blocked-by-them", "blocked-by-me", "unfriended"])
def test_a_direct_room_refuses_sends_after_a_block_or_unfriending(pair, who):
    alice, bob, room = pair
    if who == "unfriended":
        friend_remove(user=bob, user_id=alice.pk)
    else:
        blocker, blocked = (bob, alice) if who == "blocked-by-them" else (alice, bob)
        Block.objects.create(blocker=blocker, blocked=blocked)
    code = "not_friends" if who == "unfriended" else "blocked"
    assert_error_envelope(_send(client_for(alice), room), 403, code)
    assert not Message.objects.exists()


def test_sending_to_someone_elses_room_is_404(pair):
    _alice, _bob, room = pair
    assert_error_envelope(_send(client_for(UserFactory()), room), 404, "not_found")
    assert not Message.objects.exists()


def test_a_course_room_takes_sends_only_while_entitled():
    learner = UserFactory()
    room = course_room()
    client = client_for(learner)
    assert_error_envelope(_send(client, room, "c1"), 403, "not_entitled")
    enrollment_grant(user=learner, course=room.course)
    assert _send(client, room, "c2").status_code == 201
    enrollment_revoke(user=learner, course=room.course)
    assert_error_envelope(_send(client, room, "c3"), 403, "not_entitled")
    # Even a replay of an earlier send tells nothing once access ended.
    assert_error_envelope(_send(client, room, "c2"), 403, "not_entitled")
    assert list(Message.objects.values_list("client_msg_id", flat=True)) == ["c2"]


def test_over_the_rate_a_send_is_429_with_retry_after(pair, settings):
    settings.CHAT_MESSAGE_RATE = 0.5
    settings.CHAT_MESSAGE_BURST = 3
    alice, _bob, room = pair
    client = client_for(alice)
    statuses = [_send(client, room, f"r{n}").status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]  # the burst at once, then one per 2 s
    refused = _send(client, room, "r9")
    assert_error_envelope(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 2
    assert Message.objects.count() == statuses.count(201)
    # A retry of a stored send is answered, not counted.
    assert _send(client, room, "r0").status_code == 200


def test_over_the_rate_a_deletion_is_429_and_leaves_the_message(pair, settings):
    settings.CHAT_MESSAGE_RATE = 0.5
    settings.CHAT_MESSAGE_BURST = 2
    alice, _bob, room = pair
    client = client_for(alice)
    sent = [_send(client, room, f"d{n}").json()["id"] for n in range(2)]
    refused = client.delete(f"/api/chat/messages/{sent[0]}/")
    assert_error_envelope(refused, 429, "throttled")
    assert int(refused["Retry-After"]) >= 1
    assert not Message.objects.filter(deleted_at__isnull=False).exists()


def test_a_send_in_form_encoding_is_refused(pair):
    alice, _bob, room = pair
    response = client_for(alice).post(
        messages_url(room), "client_msg_id=f&body=x",
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert_error_envelope(response, 415, "unsupported_media_type")
    assert not Message.objects.exists()


def test_the_send_rules_messages_are_in_korean_when_asked(pair):
    alice, _bob, room = pair
    client = client_for(alice)
    empty = client.post(
        messages_url(room), {"client_msg_id": "a b", "body": " "}, "json", HTTP_ACCEPT_LANGUAGE="ko"
    )
    fields = assert_error_envelope(empty, 400, "validation_error")["fields"]
    assert fields == {
        "client_msg_id": ["A-Z a-z 0-9 . _ : - 문자만 쓸 수 있습니다."],
        "body": ["메시지가 비어 있습니다."],
    }
    both = client.get(
        messages_url(room), {"before_seq": 2, "after_seq": 1}, HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert assert_error_envelope(both, 400)["fields"] == {
        "after_seq": ["before_seq와 after_seq 중 하나만 보내세요."]
    }

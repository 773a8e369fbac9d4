"""Message services called directly: seqs, edits by someone who could no longer send, markers."""

import pytest

from accounts.tests.factories import UserFactory
from chat.errors import NotFriends, RateLimited, UserBlocked
from chat.models import Membership, Message
from chat.services.friends import block_create, friend_remove
from chat.services.messages import message_delete, message_edit, message_send, read_marker_set
from chat.tests.factories import course_room, direct_room, group_room

pytestmark = pytest.mark.django_db


def test_seqs_are_contiguous_and_a_retry_reuses_its_message():
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    sent = [message_send(user=alice, room_id=room.pk, client_msg_id=f"m{n}", body="hi")[0]
            for n in range(3)]  # fmt: skip
    assert [message.seq for message in sent] == [1, 2, 3]
    again, created = message_send(user=alice, room_id=room.pk, client_msg_id="m1", body="hi")
    assert (again.pk, created) == (sent[1].pk, False)
    room.refresh_from_db()
    assert room.last_seq == 3 and Message.objects.count() == 3


@pytest.mark.parametrize(
    ("end", "error"),
    [
        (lambda alice, bob: friend_remove(user=bob, user_id=alice.pk), NotFriends),
        (lambda alice, bob: block_create(user=bob, user_id=alice.pk), UserBlocked),
    ],
)
def test_an_author_who_could_no_longer_send_cannot_edit_either(end, error):
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    message, _ = message_send(user=alice, room_id=room.pk, client_msg_id="m", body="hi")
    end(alice, bob)
    with pytest.raises(error):
        message_edit(user=alice, message_id=message.pk, body="something worse")
    message.refresh_from_db()
    assert message.body == "hi" and message.edited_at is None


def test_edits_count_against_the_message_rate(settings):
    settings.CHAT_MESSAGE_RATE = 0.5
    settings.CHAT_MESSAGE_BURST = 2
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    message, _ = message_send(user=alice, room_id=room.pk, client_msg_id="m", body="v0")
    message_edit(user=alice, message_id=message.pk, body="v1")
    with pytest.raises(RateLimited) as refused:
        message_edit(user=alice, message_id=message.pk, body="v2")
    assert int(refused.value.headers["Retry-After"]) >= 1
    message.refresh_from_db()
    assert message.body == "v1"


def test_deletions_count_against_the_message_rate_and_a_repeated_one_does_not(settings):
    """Each deletion is news to every member's sockets: no cheaper to flood than a send."""
    settings.CHAT_MESSAGE_RATE = 0.5
    settings.CHAT_MESSAGE_BURST = 3
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    first, _ = message_send(user=alice, room_id=room.pk, client_msg_id="a", body="a")
    second, _ = message_send(user=alice, room_id=room.pk, client_msg_id="b", body="b")
    message_delete(user=alice, message_id=first.pk)
    message_delete(user=alice, message_id=first.pk)  # already gone: takes nothing
    with pytest.raises(RateLimited) as refused:
        message_delete(user=alice, message_id=second.pk)
    assert int(refused.value.headers["Retry-After"]) >= 1
    second.refresh_from_db()
    assert (second.body, second.deleted_at) == ("b", None)


def test_the_read_marker_is_capped_and_never_goes_back():
    alice, bob = UserFactory(), UserFactory()
    room = direct_room(alice, bob)
    for n in range(2):
        message_send(user=alice, room_id=room.pk, client_msg_id=f"m{n}", body="hi")
    assert read_marker_set(user=bob, room_id=room.pk, seq=2**62) == 2
    assert read_marker_set(user=bob, room_id=room.pk, seq=1) == 2
    assert Membership.objects.get(room=room, user=bob).last_read_seq == 2


@pytest.mark.parametrize(("kind", "statements"), [("group", 7), ("course", 8)])
def test_a_members_send_runs_its_statements_and_no_more(
    kind, statements, django_assert_num_queries
):
    """The replay check; the membership with its room (locked) and course in one query; in a
    course room the entitlement, asked on every send; the room's seq; the message; the sender's
    read marker; and the transaction's savepoint and its release."""
    owner, learner = UserFactory(), UserFactory()
    room = group_room(owner, learner) if kind == "group" else course_room(learner)
    message_send(user=learner, room_id=room.pk, client_msg_id="first", body="hi")
    with django_assert_num_queries(statements):
        message, created = message_send(user=learner, room_id=room.pk, client_msg_id="m", body="x")
    assert created and message.seq == 2

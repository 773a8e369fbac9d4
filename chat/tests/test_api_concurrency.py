"""REST sends under load: real threads, real PostgreSQL transactions and row locks."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from chat.models import Message, Room
from chat.services.rooms import group_room_create
from chat.tests.factories import befriend
from core.testing import CommittingAPIClient, on_own_connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SENDERS, SENDS_EACH = 8, 5


def test_concurrent_sends_to_one_room_get_gap_free_seqs():
    moderator, *members = UserFactory.create_batch(SENDERS)
    for member in members:
        befriend(moderator, member)
    room = group_room_create(user=moderator, title="Busy", member_ids=[m.pk for m in members])
    clients = [client_for(user) for user in (moderator, *members)]
    for client in clients:
        client.raise_request_exception = False
    barrier = threading.Barrier(SENDERS)

    @on_own_connection
    def send_all(n: int) -> list[tuple[int, int]]:
        barrier.wait()
        outcomes = []
        for k in range(SENDS_EACH):
            response = clients[n].post(
                f"/api/chat/rooms/{room.pk}/messages/",
                {"client_msg_id": f"u{n}-{k}", "body": f"{n}:{k}"},
                format="json",
            )
            outcomes.append((response.status_code, response.json().get("seq")))
        return outcomes

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        outcomes = [o for sender in pool.map(send_all, range(SENDERS)) for o in sender]

    total = SENDERS * SENDS_EACH
    assert [status for status, _seq in outcomes] == [201] * total
    assert sorted(seq for _status, seq in outcomes) == list(range(1, total + 1))
    stored = list(Message.objects.filter(room=room).order_by("seq").values_list("seq", flat=True))
    assert stored == list(range(1, total + 1))
    assert Room.objects.get(pk=room.pk).last_seq == total
    for n in range(SENDERS):  # each sender's messages in the order it sent them
        mine = Message.objects.filter(room=room, client_msg_id__startswith=f"u{n}-")
        assert list(mine.order_by("seq").values_list("body", flat=True)) == [
            f"{n}:{k}" for k in range(SENDS_EACH)
        ]


def test_the_same_send_retried_at_once_stores_one_message():
    alice, bob = UserFactory(), UserFactory()
    befriend(alice, bob)
    room = group_room_create(user=alice, title="Retry", member_ids=[bob.pk])
    access = client_for(alice).token_pair.access
    attempts = 10
    barrier = threading.Barrier(attempts)

    @on_own_connection
    def send(_n: int) -> tuple[int, int]:
        client = CommittingAPIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        barrier.wait()
        response = client.post(
            f"/api/chat/rooms/{room.pk}/messages/",
            {"client_msg_id": "same-one", "body": "hello"},
            format="json",
        )
        return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        outcomes = list(pool.map(send, range(attempts)))

    statuses = sorted(status for status, _id in outcomes)
    assert statuses == [200] * (attempts - 1) + [201]
    assert len({message_id for _status, message_id in outcomes}) == 1
    assert Message.objects.filter(room=room).count() == 1
    assert Room.objects.get(pk=room.pk).last_seq == 1

"""Friend requests, friendships and blocks, called directly."""

import threading

import pytest
from django.db import connections

from accounts.tests.factories import UserFactory
from chat.errors import (
    AlreadyFriends,
    CannotFriendSelf,
    FriendRequestNotFound,
    FriendRequestPending,
    UserBlocked,
    UserNotFound,
)
from chat.models import Block, FriendRequest, FriendRequestStatus
from chat.selectors.friends import are_friends, friend_ids_of
from chat.services.friends import (
    block_create,
    block_delete,
    friend_remove,
    friend_request_accept,
    friend_request_cancel,
    friend_request_decline,
    friend_request_send,
)
from chat.tests.factories import befriend

pytestmark = pytest.mark.django_db


def test_a_request_accepted_makes_friends():
    alice, bob = UserFactory(), UserFactory()
    request, accepted_now = friend_request_send(user=alice, user_id=bob.pk)
    assert not accepted_now and request.status == FriendRequestStatus.PENDING
    with pytest.raises(FriendRequestNotFound):  # only the addressee answers
        friend_request_accept(user=alice, request_id=request.pk)
    friend_request_accept(user=bob, request_id=request.pk)
    assert are_friends(alice.pk, bob.pk) and friend_ids_of(bob.pk) == {alice.pk}
    with pytest.raises(AlreadyFriends):
        friend_request_send(user=bob, user_id=alice.pk)
    with pytest.raises(FriendRequestNotFound):  # answered already
        friend_request_decline(user=bob, request_id=request.pk)


def test_asking_someone_who_already_asked_accepts_their_request():
    alice, bob = UserFactory(), UserFactory()
    theirs, _ = friend_request_send(user=bob, user_id=alice.pk)
    request, accepted_now = friend_request_send(user=alice, user_id=bob.pk)
    assert accepted_now and request.pk == theirs.pk
    assert are_friends(alice.pk, bob.pk)
    assert FriendRequest.objects.filter(status=FriendRequestStatus.PENDING).count() == 0


def test_declined_and_cancelled_requests_make_no_friends():
    alice, bob = UserFactory(), UserFactory()
    request, _ = friend_request_send(user=alice, user_id=bob.pk)
    with pytest.raises(FriendRequestPending):
        friend_request_send(user=alice, user_id=bob.pk)
    with pytest.raises(FriendRequestNotFound):  # only the sender cancels
        friend_request_cancel(user=bob, request_id=request.pk)
    friend_request_decline(user=bob, request_id=request.pk)
    again, _ = friend_request_send(user=alice, user_id=bob.pk)
    friend_request_cancel(user=alice, request_id=again.pk)
    assert not are_friends(alice.pk, bob.pk)
    assert list(FriendRequest.objects.values_list("status", flat=True).order_by("pk")) == [
        FriendRequestStatus.DECLINED,
        FriendRequestStatus.CANCELLED,
    ]


@pytest.mark.parametrize("target", ["self", "unknown", "inactive", "string", "bool", "float"])
def test_a_request_to_an_impossible_target_is_refused(target):
    alice = UserFactory()
    user_id = {
        "self": alice.pk,
        "unknown": 10**12,
        "inactive": UserFactory(is_active=False).pk,
        "string": str(alice.pk + 1),
        "bool": True,
        "float": float(alice.pk),
    }[target]
    expected = CannotFriendSelf if target == "self" else UserNotFound
    with pytest.raises(expected):
        friend_request_send(user=alice, user_id=user_id)
    assert not FriendRequest.objects.exists()


@pytest.mark.parametrize("who_blocks", ["sender", "recipient"])
def test_a_block_either_way_refuses_requests(who_blocks):
    alice, bob = UserFactory(), UserFactory()
    blocker, blocked = (alice, bob) if who_blocks == "sender" else (bob, alice)
    block_create(user=blocker, user_id=blocked.pk)
    with pytest.raises(UserBlocked):
        friend_request_send(user=alice, user_id=bob.pk)
    assert not FriendRequest.objects.exists()


def test_a_block_ends_the_friendship_and_pending_requests_and_unblock_restores_nothing():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    befriend(alice, bob)
    pending, _ = friend_request_send(user=carol, user_id=alice.pk)
    block, created = block_create(user=alice, user_id=bob.pk)
    assert created and not are_friends(alice.pk, bob.pk)
    assert block_create(user=alice, user_id=bob.pk) == (block, False)
    block_create(user=alice, user_id=carol.pk)
    pending.refresh_from_db()
    assert pending.status == FriendRequestStatus.CANCELLED
    with pytest.raises(FriendRequestNotFound):
        friend_request_accept(user=alice, request_id=pending.pk)
    block_delete(user=alice, user_id=bob.pk)
    assert not Block.objects.filter(blocker=alice, blocked=bob).exists()
    assert not are_friends(alice.pk, bob.pk)
    friend_request_send(user=bob, user_id=alice.pk)  # they may ask again


def test_removing_a_friend_ends_the_friendship_both_ways():
    alice, bob = UserFactory(), UserFactory()
    befriend(alice, bob)
    friend_remove(user=bob, user_id=alice.pk)
    assert not are_friends(alice.pk, bob.pk)
    with pytest.raises(Exception) as refused:
        friend_remove(user=alice, user_id=bob.pk)
    assert refused.value.code == "not_found"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_users_asking_each_other_at_once_become_friends():
    alice, bob = UserFactory(), UserFactory()
    barrier = threading.Barrier(2)
    errors = []

    def ask(user, other) -> None:
        try:
            barrier.wait()
            friend_request_send(user=user, user_id=other.pk)
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask, args=pair) for pair in ((alice, bob), (bob, alice))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert are_friends(alice.pk, bob.pk)
    assert not FriendRequest.objects.filter(status=FriendRequestStatus.PENDING).exists()

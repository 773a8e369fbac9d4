"""Group and direct rooms and their members, called directly; concurrent opens of one direct
room with real threads."""

import threading

import pytest
from django.db import connections

from accounts.tests.factories import UserFactory
from chat.errors import (
    AlreadyMember,
    InvalidFrame,
    ModeratorOnly,
    NotAGroupRoom,
    NotFriends,
    NotMember,
    RoomNotFound,
    UserBlocked,
)
from chat.models import MemberRole, Membership, Room, RoomKind
from chat.services.friends import block_create
from chat.services.rooms import (
    direct_room_open,
    group_room_create,
    member_add,
    member_remove,
    room_leave,
)
from chat.tests.factories import befriend, direct_room, group_room


def _roles(room) -> dict[int, str]:
    return dict(Membership.objects.filter(room=room).values_list("user_id", "role"))


@pytest.mark.django_db
def test_a_group_is_made_of_friends_only():
    alice, friend, stranger = UserFactory(), UserFactory(), UserFactory()
    befriend(alice, friend)
    with pytest.raises(NotFriends):
        group_room_create(user=alice, title="Mixed", member_ids=[friend.pk, stranger.pk])
    for member_ids in (["1"], [True], [1.0], "12", [[friend.pk]]):
        with pytest.raises(InvalidFrame):
            group_room_create(user=alice, title="Odd", member_ids=member_ids)
    with pytest.raises(InvalidFrame):
        group_room_create(user=alice, title="  ", member_ids=[friend.pk])
    assert not Room.objects.exists()
    room = group_room_create(user=alice, title=" Study ", member_ids=[friend.pk, alice.pk])
    assert room.title == "Study"
    assert _roles(room) == {alice.pk: MemberRole.MODERATOR, friend.pk: MemberRole.MEMBER}


@pytest.mark.django_db
def test_moderators_add_and_remove_members_and_members_cannot():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    room = group_room(alice, bob)
    befriend(bob, carol)
    with pytest.raises(ModeratorOnly):
        member_add(user=bob, room_id=room.pk, user_id=carol.pk)
    with pytest.raises(NotFriends):  # carol is bob's friend, not alice's
        member_add(user=alice, room_id=room.pk, user_id=carol.pk)
    befriend(alice, carol)
    member_add(user=alice, room_id=room.pk, user_id=carol.pk)
    with pytest.raises(AlreadyMember):
        member_add(user=alice, room_id=room.pk, user_id=carol.pk)
    with pytest.raises(ModeratorOnly):
        member_remove(user=bob, room_id=room.pk, user_id=carol.pk)
    member_remove(user=alice, room_id=room.pk, user_id=carol.pk)
    with pytest.raises(NotMember):
        member_remove(user=alice, room_id=room.pk, user_id=carol.pk)
    with pytest.raises(RoomNotFound):  # no longer a member: the room is not theirs
        room_leave(user=carol, room_id=room.pk)
    assert set(_roles(room)) == {alice.pk, bob.pk}


@pytest.mark.django_db
def test_the_last_moderator_leaving_promotes_the_longest_standing_member():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    room = group_room(alice, bob, carol)
    Membership.objects.filter(room=room, user=carol).update(joined_at=room.created_at.replace(
        year=2000))  # fmt: skip
    room_leave(user=alice, room_id=room.pk)
    assert _roles(room) == {bob.pk: MemberRole.MEMBER, carol.pk: MemberRole.MODERATOR}


@pytest.mark.django_db
def test_direct_rooms_are_for_friends_and_cannot_be_left():
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    with pytest.raises(NotFriends):
        direct_room_open(user=alice, user_id=bob.pk)
    room = direct_room(alice, bob)
    assert direct_room_open(user=bob, user_id=alice.pk) == (room, False)
    with pytest.raises(NotAGroupRoom):
        room_leave(user=alice, room_id=room.pk)
    with pytest.raises(NotAGroupRoom):
        member_add(user=alice, room_id=room.pk, user_id=bob.pk)
    with pytest.raises(RoomNotFound):
        room_leave(user=carol, room_id=room.pk)
    befriend(alice, carol)
    block_create(user=carol, user_id=alice.pk)
    with pytest.raises(UserBlocked):
        direct_room_open(user=alice, user_id=carol.pk)
    assert Room.objects.filter(kind=RoomKind.DIRECT).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_both_friends_opening_their_room_at_once_get_one_room():
    alice, bob = UserFactory(), UserFactory()
    befriend(alice, bob)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def open_it(user, other) -> None:
        try:
            barrier.wait()
            results.append(direct_room_open(user=user, user_id=other.pk))
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_it, args=pair) for pair in ((alice, bob), (bob, alice))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Room.objects.filter(kind=RoomKind.DIRECT).count() == 1
    assert {room.pk for room, _created in results} == {Room.objects.get().pk}
    assert sorted(created for _room, created in results) == [False, True]
    assert Membership.objects.count() == 2

"""Friends, friend requests and blocks, as read."""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from chat.models import Block, FriendRequest, FriendRequestStatus, Friendship

User = get_user_model()


def pair(user_id: int, other_id: int) -> tuple[int, int]:
    return (user_id, other_id) if user_id < other_id else (other_id, user_id)


def are_friends(user_id: int, other_id: int) -> bool:
    low, high = pair(user_id, other_id)
    return Friendship.objects.filter(user_low_id=low, user_high_id=high).exists()


def blocked_between(user_id: int, other_id: int) -> bool:
    """Either blocked the other."""
    return Block.objects.filter(
        Q(blocker_id=user_id, blocked_id=other_id) | Q(blocker_id=other_id, blocked_id=user_id)
    ).exists()


def friend_ids_of(user_id: int) -> set[int]:
    rows = Friendship.objects.filter(Q(user_low_id=user_id) | Q(user_high_id=user_id))
    return {
        high if low == user_id else low
        for low, high in rows.values_list("user_low_id", "user_high_id")
    }


def friends_of(user) -> QuerySet:
    """The users who are `user`'s friends (active ones), by username; only what is shown."""
    friendships = Friendship.objects.filter(Q(user_low=user) | Q(user_high=user))
    return (
        User.objects.filter(
            Q(pk__in=friendships.values("user_high"), is_active=True)
            | Q(pk__in=friendships.values("user_low"), is_active=True)
        )
        .exclude(pk=user.pk)
        .only("pk", "username", "name")
        .order_by("username_canonical", "pk")
    )


def friend_requests_of(user, *, direction: str) -> QuerySet[FriendRequest]:
    """Pending requests `user` received ("incoming") or sent ("outgoing")."""
    requests = FriendRequest.objects.select_related("from_user", "to_user").filter(
        status=FriendRequestStatus.PENDING
    )
    if direction == "outgoing":
        return requests.filter(from_user=user)
    return requests.filter(to_user=user)


def blocks_of(user) -> QuerySet[Block]:
    return Block.objects.select_related("blocked").filter(blocker=user)

"""Friend requests, friendships and blocks. A direct room exists only between friends; a block,
either way, stops messages between the two at once (checked on every send) and ends their
friendship and pending requests."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from chat import broadcast
from chat.errors import (
    AlreadyFriends,
    BlockNotFound,
    CannotFriendSelf,
    FriendNotFound,
    FriendRequestNotFound,
    FriendRequestPending,
    UserBlocked,
    UserNotFound,
)
from chat.models import Block, FriendRequest, FriendRequestStatus, Friendship
from chat.payloads import user_data
from chat.selectors.friends import are_friends, blocked_between, pair

User = get_user_model()


def is_row_id(value) -> bool:
    """An int a primary key can hold (bool and floats are not ids; 2**63 overflows SQLite)."""
    return type(value) is int and 0 < value < 2**63


def other_user(*, user, user_id) -> "User":
    """An active user other than `user` (UserNotFound, CannotFriendSelf)."""
    if not is_row_id(user_id):
        raise UserNotFound()
    if user_id == user.pk:
        raise CannotFriendSelf()
    other = User.objects.filter(pk=user_id, is_active=True).first()
    if other is None:
        raise UserNotFound()
    return other


def _request_frame(request: FriendRequest, kind: str) -> dict:
    return {
        "type": kind,
        "request": {
            "id": request.pk,
            "from_user": user_data(request.from_user),
            "to_user": user_data(request.to_user),
            "status": request.status,
        },
    }


@transaction.atomic
def friend_request_send(*, user, user_id) -> tuple[FriendRequest, bool]:
    """The new pending request and False; or, if the other user had already asked, their request
    accepted and True (both wanted it)."""
    other = other_user(user=user, user_id=user_id)
    # The pair's rows, locked in id order: two users asking each other at once queue up, so
    # the second sees the first's request and accepts it instead of leaving two pending.
    list(User.objects.select_for_update().filter(pk__in=pair(user.pk, other.pk)).order_by("pk"))
    if blocked_between(user.pk, other.pk):
        raise UserBlocked()
    if are_friends(user.pk, other.pk):
        raise AlreadyFriends()
    reverse = (
        FriendRequest.objects.select_for_update()
        .filter(from_user=other, to_user=user, status=FriendRequestStatus.PENDING)
        .first()
    )
    if reverse is not None:
        return _accept(reverse), True
    try:
        with transaction.atomic():
            request = FriendRequest.objects.create(from_user=user, to_user=other)
    except IntegrityError:
        raise FriendRequestPending() from None
    broadcast.user_frame_on_commit(other.pk, _request_frame(request, "friend.request"))
    return request, False


def _pending_for(*, request_id, **who) -> FriendRequest:
    request = (
        FriendRequest.objects.select_for_update()
        .select_related("from_user", "to_user")
        .filter(pk=request_id, status=FriendRequestStatus.PENDING, **who)
        .first()
        if is_row_id(request_id)
        else None
    )
    if request is None:
        raise FriendRequestNotFound()
    return request


def _accept(request: FriendRequest) -> FriendRequest:
    request.status = FriendRequestStatus.ACCEPTED
    request.responded_at = timezone.now()
    request.save(update_fields=("status", "responded_at"))
    low, high = pair(request.from_user_id, request.to_user_id)
    Friendship.objects.get_or_create(user_low_id=low, user_high_id=high)
    for me, friend in ((request.from_user, request.to_user), (request.to_user, request.from_user)):
        broadcast.user_frame_on_commit(me.pk, {"type": "friend.added", "user": user_data(friend)})
    return request


@transaction.atomic
def friend_request_accept(*, user, request_id) -> FriendRequest:
    request = _pending_for(request_id=request_id, to_user=user)
    if blocked_between(request.from_user_id, user.pk):
        raise UserBlocked()
    return _accept(request)


@transaction.atomic
def friend_request_decline(*, user, request_id) -> FriendRequest:
    """The sender is not told: their request simply stays unanswered to them."""
    request = _pending_for(request_id=request_id, to_user=user)
    request.status = FriendRequestStatus.DECLINED
    request.responded_at = timezone.now()
    request.save(update_fields=("status", "responded_at"))
    return request


@transaction.atomic
def friend_request_cancel(*, user, request_id) -> FriendRequest:
    request = _pending_for(request_id=request_id, from_user=user)
    request.status = FriendRequestStatus.CANCELLED
    request.responded_at = timezone.now()
    request.save(update_fields=("status", "responded_at"))
    broadcast.user_frame_on_commit(
        request.to_user_id, _request_frame(request, "friend.request.cancelled")
    )
    return request


def _friendship_end(user_id: int, other_id: int) -> bool:
    low, high = pair(user_id, other_id)
    deleted, _ = Friendship.objects.filter(user_low_id=low, user_high_id=high).delete()
    if deleted:
        broadcast.user_frame_on_commit(user_id, {"type": "friend.removed", "user": other_id})
        broadcast.user_frame_on_commit(other_id, {"type": "friend.removed", "user": user_id})
    return bool(deleted)


@transaction.atomic
def friend_remove(*, user, user_id) -> None:
    if not is_row_id(user_id) or not _friendship_end(user.pk, user_id):
        raise FriendNotFound()


@transaction.atomic
def block_create(*, user, user_id) -> tuple[Block, bool]:
    """Blocking twice is harmless (the block and False). The blocked user is not told."""
    other = other_user(user=user, user_id=user_id)
    block, created = Block.objects.get_or_create(blocker=user, blocked=other)
    if created:
        _friendship_end(user.pk, other.pk)
        FriendRequest.objects.filter(
            Q(from_user=user, to_user=other) | Q(from_user=other, to_user=user),
            status=FriendRequestStatus.PENDING,
        ).update(status=FriendRequestStatus.CANCELLED, responded_at=timezone.now())
    return block, created


@transaction.atomic
def block_delete(*, user, user_id) -> None:
    deleted = 0
    if is_row_id(user_id):
        deleted, _ = Block.objects.filter(blocker=user, blocked_id=user_id).delete()
    if not deleted:
        raise BlockNotFound()

"""What a socket needs from the database: its ticket, checked and spent once; the open-socket
rows that presence and the per-user limit count."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from accounts.models import AuthSession
from chat import broadcast
from chat.errors import SessionEnded, TicketInvalid, TooManySockets
from chat.models import Connection, SocketTicket
from chat.selectors.friends import friend_ids_of

TICKET_PREFIX = "ticket."


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def ticket_issue(*, user, session_id) -> tuple[str, SocketTicket]:
    """A new single-use ticket for `user`'s login session; only its hash is kept."""
    raw = secrets.token_urlsafe(32)
    ticket = SocketTicket.objects.create(
        digest=_digest(raw),
        user=user,
        session_id=session_id,
        expires_at=timezone.now() + timedelta(seconds=settings.CHAT_TICKET_SECONDS),
    )
    return raw, ticket


@dataclass(frozen=True)
class SocketIdentity:
    user: object
    session: AuthSession


def ticket_redeem(raw) -> SocketIdentity:
    """Spend the ticket (exactly once, even when raced) and return who it is for; TicketInvalid
    if unknown, expired, used, or its session or user has ended."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        raise TicketInvalid()
    now = timezone.now()
    with transaction.atomic():
        ticket = (
            SocketTicket.objects.select_for_update()
            .filter(digest=_digest(raw), used_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if ticket is None:
            raise TicketInvalid()
        SocketTicket.objects.filter(pk=ticket.pk).update(used_at=now)
    session = (
        AuthSession.objects.select_related("user")
        .filter(pk=ticket.session_id, user_id=ticket.user_id)
        .first()
    )
    if session is None or not session.is_live or not session.user.is_active:
        raise TicketInvalid()
    return SocketIdentity(user=session.user, session=session)


def _live_session(*, session_id, user_id: int, now):
    return AuthSession.objects.filter(
        pk=session_id, user_id=user_id, user__is_active=True, revoked_at__isnull=True,
        expires_at__gt=now,
    )  # fmt: skip


def session_check(*, session_id, user_id: int) -> None:
    """SessionEnded if the login session was revoked or expired, or its user deactivated."""
    if not _live_session(session_id=session_id, user_id=user_id, now=timezone.now()).exists():
        raise SessionEnded()


def _fresh_after():
    return timezone.now() - timedelta(seconds=settings.CHAT_PING_SECONDS * 2 + 5)


def _open_sockets(user_id: int):
    return Connection.objects.filter(user_id=user_id, seen_at__gt=_fresh_after())


@transaction.atomic
def connection_open(*, user, session_id, channel_name: str) -> bool:
    """Count the socket in (TooManySockets beyond CHAT_SOCKETS_PER_USER); True if it is the
    user's first, when their friends learn they are online."""
    # The user's row serialises their concurrent connects, so the limit holds when raced.
    type(user).objects.select_for_update().filter(pk=user.pk).exists()
    open_now = _open_sockets(user.pk).count()
    if open_now >= settings.CHAT_SOCKETS_PER_USER:
        raise TooManySockets()
    Connection.objects.create(
        channel_name=channel_name, user=user, session_id=session_id, seen_at=timezone.now()
    )
    if open_now == 0:
        _presence_announce(user.pk, online=True)
    return open_now == 0


def heartbeat_record(*, session_id, user_id: int, channel_name: str) -> None:
    """The socket's heartbeat: its presence row is refreshed if its login session is still live,
    in one statement; SessionEnded if the session was revoked or expired, or its user
    deactivated (checked again only when no row was refreshed)."""
    now = timezone.now()
    live = _live_session(session_id=session_id, user_id=user_id, now=now)
    refreshed = Connection.objects.filter(Exists(live), channel_name=channel_name).update(
        seen_at=now
    )
    if not refreshed:
        session_check(session_id=session_id, user_id=user_id)


@transaction.atomic
def connection_close(*, user_id: int, channel_name: str) -> None:
    Connection.objects.filter(channel_name=channel_name).delete()
    if not _open_sockets(user_id).exists():
        _presence_announce(user_id, online=False)


def _presence_announce(user_id: int, *, online: bool) -> None:
    for friend_id in friend_ids_of(user_id):
        broadcast.user_frame_on_commit(
            friend_id, {"type": "presence", "user": user_id, "online": online}
        )


def online_friend_ids(user_id: int) -> list[int]:
    friends = friend_ids_of(user_id)
    if not friends:
        return []
    fresh = Connection.objects.filter(user_id__in=friends, seen_at__gt=_fresh_after())
    return sorted(set(fresh.values_list("user_id", flat=True)))


def stale_rows_purge(*, now, batch_size: int) -> int:
    """Spent or expired tickets and the rows of sockets whose instance died."""
    deleted = 0
    tickets = SocketTicket.objects.filter(expires_at__lt=now - timedelta(minutes=5))
    ids = list(tickets.values_list("pk", flat=True)[:batch_size])
    deleted += SocketTicket.objects.filter(pk__in=ids).delete()[0]
    stale = Connection.objects.filter(seen_at__lt=now - timedelta(hours=1))
    ids = list(stale.values_list("pk", flat=True)[:batch_size])
    deleted += Connection.objects.filter(pk__in=ids).delete()[0]
    return deleted

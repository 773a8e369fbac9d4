"""Opening a socket: the ticket, the subprotocol, the Origin, the per-user limit, hello and
presence."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.auth.services import auth_sessions_revoke
from accounts.models import RevokeReason
from accounts.services import user_deactivate
from accounts.tests.factories import UserFactory
from chat.models import Connection, SocketTicket
from chat.protocol import PROTOCOL
from chat.tests.factories import befriend, direct_room, group_room
from chat.tests.helpers import (
    closed_code,
    communicator,
    new_ticket,
    open_socket,
    session_of,
    sync,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def _refused_ticket(ticket) -> None:
    """The socket is accepted, told ticket_invalid and closed with 4001."""
    comm = communicator(ticket=ticket)
    connected, subprotocol = await comm.connect()
    assert connected and subprotocol == PROTOCOL
    error = await comm.receive_json_from()
    assert error["type"] == "error" and error["code"] == "ticket_invalid"
    assert await closed_code(comm) == 4001


def _connections() -> int:
    return Connection.objects.count()


async def test_a_valid_ticket_opens_the_socket_and_hello_lists_the_rooms():
    alice, bob, carol = await sync(lambda: [UserFactory() for _ in range(3)])()
    room = await sync(direct_room)(alice, bob)
    group = await sync(group_room)(alice, carol)
    socket = await open_socket(alice)
    assert socket.hello["protocol"] == PROTOCOL
    assert socket.hello["user"]["id"] == alice.pk
    assert socket.hello["rooms"] == sorted(
        [{"id": room.pk, "last_seq": 0}, {"id": group.pk, "last_seq": 0}], key=lambda r: r["id"]
    )
    assert socket.hello["limits"]["max_frame_bytes"] > 0
    assert await sync(_connections)() == 1


def _expired_ticket(user) -> str:
    raw = new_ticket(user)
    SocketTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    return raw


def _revoked_session_ticket(user) -> str:
    session = session_of(user)
    raw = new_ticket(user, session)
    auth_sessions_revoke(user=user, reason=RevokeReason.LOGOUT, session_ids=[session.pk])
    return raw


def _deactivated_user_ticket(user) -> str:
    raw = new_ticket(user)
    user_deactivate(user=user)
    return raw


@pytest.mark.parametrize(
    "make_ticket",
    [
        _expired_ticket,
        _revoked_session_ticket,
        _deactivated_user_ticket,
        lambda user: "x" * 43,  # unknown
        lambda user: "short",  # malformed
        lambda user: "ä" * 43,
        lambda user: new_ticket(user) + "x",  # a real one, altered
    ],
    ids=["expired", "revoked-session", "deactivated", "unknown", "short", "non-ascii", "altered"],
)
async def test_a_bad_ticket_is_refused_with_4001_and_nothing_is_written(make_ticket):
    user = await sync(UserFactory)()
    ticket = await sync(make_ticket)(user)
    await _refused_ticket(ticket)
    assert await sync(_connections)() == 0


async def test_no_ticket_subprotocol_is_refused_with_4001():
    comm = communicator(ticket=None, subprotocols=[PROTOCOL])
    connected, _ = await comm.connect()
    assert connected
    assert (await comm.receive_json_from())["code"] == "ticket_invalid"
    assert await closed_code(comm) == 4001


async def test_a_ticket_opens_one_socket_only():
    user = await sync(UserFactory)()
    ticket = await sync(new_ticket)(user)
    first = communicator(ticket=ticket)
    assert (await first.connect())[0]
    assert (await first.receive_json_from())["type"] == "hello"
    await _refused_ticket(ticket)
    assert await sync(_connections)() == 1


async def test_two_sockets_racing_for_one_ticket_open_exactly_one():
    user = await sync(UserFactory)()
    ticket = await sync(new_ticket)(user)
    comms = [communicator(ticket=ticket) for _ in range(2)]
    await asyncio.gather(*(comm.connect() for comm in comms))
    firsts = await asyncio.gather(*(comm.receive_json_from() for comm in comms))
    kinds = sorted(frame["type"] for frame in firsts)
    assert kinds == ["error", "hello"]
    assert await sync(_connections)() == 1


async def test_a_client_not_offering_chat_v1_is_refused_at_the_handshake():
    user = await sync(UserFactory)()
    ticket = await sync(new_ticket)(user)
    comm = communicator(ticket=ticket, subprotocols=[f"ticket.{ticket}", "chat.v2"])
    connected, _code = await comm.connect()
    assert not connected
    # The ticket was not spent on a refused handshake: it still opens a socket.
    assert await sync(SocketTicket.objects.filter(used_at__isnull=True).count)() == 1


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example.com",
        "http://testserver.evil.com",
        "http://testserver:8080",
        "null",
        "https://app.example.com.evil.com",
        "file://",
    ],
)
async def test_a_foreign_origin_is_closed_with_4003_and_keeps_the_ticket(origin):
    user = await sync(UserFactory)()
    ticket = await sync(new_ticket)(user)
    comm = communicator(ticket=ticket, origin=origin)
    connected, _ = await comm.connect()
    assert connected
    assert await closed_code(comm) == 4003
    assert await sync(_connections)() == 0


@pytest.mark.parametrize(
    "origin", [None, "http://testserver", "https://TESTSERVER", "https://app.example.com/"]
)
async def test_same_site_allowed_or_absent_origin_connects(origin):
    user = await sync(UserFactory)()
    socket = await open_socket(user, origin=origin)
    assert socket.hello["type"] == "hello"


async def test_chat_allowed_origins_take_precedence_over_cors(settings):
    settings.CHAT_ALLOWED_ORIGINS = ["https://chat.example.org"]
    user = await sync(UserFactory)()
    socket = await open_socket(user, origin="https://chat.example.org")
    assert socket.hello["type"] == "hello"
    ticket = await sync(new_ticket)(user)
    comm = communicator(ticket=ticket, origin="https://app.example.com")
    assert (await comm.connect())[0]
    assert await closed_code(comm) == 4003


async def test_an_origin_matching_a_host_not_allowed_is_refused():
    user = await sync(UserFactory)()
    ticket = await sync(new_ticket)(user)
    comm = communicator(ticket=ticket, origin="http://evil.com", host="evil.com")
    assert (await comm.connect())[0]
    assert await closed_code(comm) == 4003


async def test_sockets_beyond_the_per_user_limit_are_refused_with_4008(settings):
    settings.CHAT_SOCKETS_PER_USER = 2
    user = await sync(UserFactory)()
    await open_socket(user)
    await open_socket(user)
    ticket = await sync(new_ticket)(user)
    comm = communicator(ticket=ticket)
    assert (await comm.connect())[0]
    error = await comm.receive_json_from()
    assert error["code"] == "too_many_sockets"
    assert await closed_code(comm) == 4008
    assert await sync(_connections)() == 2


async def test_racing_connects_never_exceed_the_per_user_limit(settings):
    settings.CHAT_SOCKETS_PER_USER = 1
    user = await sync(UserFactory)()
    tickets = [await sync(new_ticket)(user) for _ in range(3)]
    comms = [communicator(ticket=ticket) for ticket in tickets]
    await asyncio.gather(*(comm.connect() for comm in comms))
    firsts = await asyncio.gather(*(comm.receive_json_from() for comm in comms))
    assert sorted(frame["type"] for frame in firsts) == ["error", "error", "hello"]
    assert await sync(_connections)() == 1


async def test_friends_see_presence_and_strangers_do_not():
    alice, friend, stranger = await sync(lambda: [UserFactory() for _ in range(3)])()
    await sync(befriend)(alice, friend)
    friend_socket = await open_socket(friend, ignored=())
    stranger_socket = await open_socket(stranger, ignored=())
    alice_socket = await open_socket(alice)
    assert alice_socket.hello["online_friends"] == [friend.pk]
    assert await friend_socket.receive() == {"type": "presence", "user": alice.pk, "online": True}
    await alice_socket.close()
    assert await friend_socket.receive() == {"type": "presence", "user": alice.pk, "online": False}
    assert await stranger_socket.nothing_more()
    assert await sync(_connections)() == 2


async def test_a_second_socket_of_an_online_user_announces_nothing_new():
    alice, friend = await sync(lambda: [UserFactory() for _ in range(2)])()
    await sync(befriend)(alice, friend)
    friend_socket = await open_socket(friend, ignored=())
    first = await open_socket(alice)
    assert (await friend_socket.receive())["online"] is True
    second = await open_socket(alice)
    await first.close()
    assert await friend_socket.nothing_more()
    await second.close()
    assert (await friend_socket.receive())["online"] is False

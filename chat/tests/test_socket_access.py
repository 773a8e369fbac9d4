"""Who may stay on the socket and in which rooms: course rooms follow entitlement (refund, grant,
expiry), and an ended login session closes its sockets with 4001."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.auth.services import ClientInfo, auth_sessions_revoke
from accounts.models import AuthSession, RevokeReason
from accounts.services import user_deactivate, user_password_change
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from chat.models import Message
from chat.tests.factories import course_room, direct_room
from chat.tests.helpers import open_socket, session_of, sync
from courses.models import Course
from courses.services.enrollments import enrollment_grant, enrollment_revoke

pytestmark = pytest.mark.django_db(transaction=True)


def _send(room, client_msg_id: str = "m1") -> dict:
    return {"type": "message.send", "room": room.pk, "client_msg_id": client_msg_id, "body": "hi"}


def _users(count: int):
    return sync(lambda: [UserFactory() for _ in range(count)])()


def _course_of(room) -> Course:
    return Course.objects.get(pk=room.course_id)


async def test_an_entitled_learner_posts_in_the_course_room_and_others_cannot():
    learner, outsider = await _users(2)
    room = await sync(course_room)(learner)
    learner_socket, outsider_socket = await open_socket(learner), await open_socket(outsider)
    assert {"id": room.pk, "last_seq": 0} in learner_socket.hello["rooms"]
    assert outsider_socket.hello["rooms"] == []
    ack = await learner_socket.request(_send(room), "message.ack")
    assert ack["type"] == "message.ack" and ack["seq"] == 1
    refused = await outsider_socket.error(_send(room))
    assert refused["code"] == "not_entitled"
    assert (await outsider_socket.error({"type": "read", "room": room.pk, "seq": 1}))[
        "code"
    ] == "not_entitled"
    assert await sync(Message.objects.count)() == 1


async def test_a_refund_removes_the_room_from_the_socket_at_once():
    learner, other = await _users(2)
    room = await sync(course_room)(learner)
    course = await sync(_course_of)(room)
    await sync(enrollment_grant)(user=other, course=course)
    learner_socket, other_socket = await open_socket(learner), await open_socket(other)
    await sync(enrollment_revoke)(user=learner, course=course)
    assert await learner_socket.receive() == {
        "type": "membership.removed",
        "room": room.pk,
    }
    await other_socket.request(_send(room), "message.ack")
    assert (await other_socket.receive_type("message.new"))["message"]["seq"] == 1
    assert await learner_socket.nothing_more()
    assert (await learner_socket.error(_send(room)))["code"] == "not_entitled"
    assert (await learner_socket.error({"type": "typing", "room": room.pk}))["code"] == "not_found"


async def test_a_grant_adds_the_room_to_open_sockets():
    learner = (await _users(1))[0]
    room = await sync(course_room)()
    socket = await open_socket(learner)
    assert socket.hello["rooms"] == []
    await sync(enrollment_grant)(user=learner, course=await sync(_course_of)(room))
    assert await socket.receive() == {
        "type": "membership.added",
        "room": room.pk,
        "last_seq": 0,
    }
    assert (await socket.request(_send(room), "message.ack"))["type"] == "message.ack"


async def test_an_expiring_grant_removes_the_room_when_it_expires_without_any_event():
    learner = (await _users(1))[0]
    # Far enough ahead that the socket opens first even on a slow, busy machine.
    expires_at = timezone.now() + timedelta(seconds=5)
    room = await sync(course_room)(learner, expires_at=expires_at)
    socket = await open_socket(learner)
    assert [entry["id"] for entry in socket.hello["rooms"]] == [room.pk]
    assert await socket.receive(timeout=10) == {"type": "membership.removed", "room": room.pk}
    assert timezone.now() >= expires_at
    assert (await socket.error(_send(room)))["code"] == "not_entitled"


async def test_logout_closes_that_sessions_socket_only():
    user = (await _users(1))[0]
    ending, staying = await sync(session_of)(user), await sync(session_of)(user)
    closing_socket = await open_socket(user, session=ending)
    open_one = await open_socket(user, session=staying)
    await sync(auth_sessions_revoke)(user=user, reason=RevokeReason.LOGOUT, session_ids=[ending.pk])
    error = await closing_socket.receive()
    assert error["type"] == "error" and error["code"] == "session_revoked"
    assert await closing_socket.closed_code() == 4001
    assert (await open_one.request({"type": "ping"}, "pong"))["type"] == "pong"


def _logout_all(user) -> None:
    auth_sessions_revoke(user=user, reason=RevokeReason.LOGOUT_ALL)


def _password_change(user) -> None:
    user_password_change(
        user=user, current_password=DEFAULT_PASSWORD, new_password="An0ther-long-passphrase!",
        client=ClientInfo(),
    )  # fmt: skip


def _deactivate(user) -> None:
    user_deactivate(user=user)


@pytest.mark.parametrize("end", [_logout_all, _password_change, _deactivate])
async def test_ending_every_session_closes_every_socket_of_the_user(end):
    user, friend = await _users(2)
    await sync(direct_room)(user, friend)
    sockets = [await open_socket(user), await open_socket(user)]
    friend_socket = await open_socket(friend)
    await sync(end)(user)
    for socket in sockets:
        assert (await socket.receive())["code"] == "session_revoked"
        assert await socket.closed_code() == 4001
    assert (await friend_socket.request({"type": "ping"}, "pong"))["type"] == "pong"


async def test_a_session_reaching_its_absolute_expiry_is_closed(settings):
    settings.CHAT_PING_SECONDS = 0.5
    user = (await _users(1))[0]
    session = await sync(session_of)(user)
    socket = await open_socket(user, session=session)
    await sync(AuthSession.objects.filter(pk=session.pk).update)(
        expires_at=timezone.now() + timedelta(seconds=0.3)
    )
    started = asyncio.get_running_loop().time()
    assert (await socket.receive(timeout=5))["code"] == "session_revoked"
    assert await socket.closed_code() == 4001
    assert asyncio.get_running_loop().time() - started < 5  # a heartbeat, not the token's end

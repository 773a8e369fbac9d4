"""The socket's heartbeat, called directly: one statement refreshes presence while the session
lives; a revoked, expired or deactivated session ends the socket and refreshes nothing; and
sockets opened together spread their heartbeats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from chat.consumers import heartbeat_delay
from chat.errors import SessionEnded
from chat.models import Connection
from chat.services.sockets import heartbeat_record
from chat.tests.helpers import session_of

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.now() - timedelta(minutes=5)


def _socket(user, session, name: str = "c1") -> Connection:
    return Connection.objects.create(channel_name=name, user=user, session=session,
                                     seen_at=LONG_AGO)  # fmt: skip


def test_a_live_sessions_heartbeat_refreshes_its_row_in_one_statement(django_assert_num_queries):
    user = UserFactory()
    session = session_of(user)
    socket, other = _socket(user, session), _socket(user, session, "c2")
    with django_assert_num_queries(1):
        heartbeat_record(session_id=session.pk, user_id=user.pk, channel_name="c1")
    socket.refresh_from_db()
    other.refresh_from_db()
    assert socket.seen_at > timezone.now() - timedelta(seconds=5)
    assert other.seen_at == LONG_AGO


@pytest.mark.parametrize("end", ["revoked", "expired", "deactivated"])
def test_an_ended_sessions_heartbeat_raises_and_refreshes_nothing(end):
    user = UserFactory()
    session = session_of(user)
    socket = _socket(user, session)
    if end == "revoked":
        session.revoked_at = timezone.now()
    elif end == "expired":
        session.created_at = timezone.now() - timedelta(days=30)
        session.expires_at = timezone.now() - timedelta(seconds=1)
    else:
        user.is_active = False
        user.save(update_fields=["is_active"])
    session.save()
    with pytest.raises(SessionEnded):
        heartbeat_record(session_id=session.pk, user_id=user.pk, channel_name="c1")
    socket.refresh_from_db()
    assert socket.seen_at == LONG_AGO


def test_another_users_session_does_not_keep_a_socket_alive():
    owner, intruder = UserFactory(), UserFactory()
    session = session_of(owner)
    _socket(owner, session)
    with pytest.raises(SessionEnded):
        heartbeat_record(session_id=session.pk, user_id=intruder.pk, channel_name="c1")


def test_a_live_session_whose_row_is_gone_carries_on():
    user = UserFactory()
    session = session_of(user)
    heartbeat_record(session_id=session.pk, user_id=user.pk, channel_name="purged")
    assert not Connection.objects.exists()


def test_heartbeats_are_spread_over_the_last_quarter_of_the_ping_interval(settings):
    settings.CHAT_PING_SECONDS = 20.0
    far = timezone.now() + timedelta(hours=1)
    delays = [heartbeat_delay(far) for _ in range(200)]
    assert all(15.0 <= delay <= 20.0 for delay in delays)
    assert max(delays) - min(delays) > 2.5  # not all at once


def test_an_expiry_sooner_than_the_pace_comes_first(settings):
    settings.CHAT_PING_SECONDS = 20.0
    assert 2.0 <= heartbeat_delay(timezone.now() + timedelta(seconds=2)) <= 2.2
    assert heartbeat_delay(timezone.now() - timedelta(seconds=5)) == 0.0

"""Each process holds the sessions and users it checked (core.near_cache): an attacker who keeps
sending a token after its session ended elsewhere, or after the account was disabled elsewhere,
must be refused by the very next request. "Elsewhere" is another process: the database changed
and the cache written and announced on the channel the way that process's code does, nothing
through this process."""

from unittest import mock

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts.auth import cache as auth_cache
from accounts.models import AuthSession, CustomUser
from accounts.testing import client_for
from core import near_cache

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not settings.REDIS_URL, reason="the near cache needs Redis"),
]
ME = "/api/users/me/"


def announced_elsewhere(*keys: str) -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.publish(near_cache.CHANNEL, "\n".join(cache.make_key(key) for key in keys))
    client.close()


def ended_elsewhere(user: CustomUser, *, announce: bool = True) -> None:
    """Another process's logout: the session revoked in the database, then "revoked" in the
    cache (auth.cache.sessions_mark_revoked), then announced."""
    session = AuthSession.objects.get(user=user)
    AuthSession.objects.filter(pk=session.pk).update(revoked_at=timezone.now())
    key = auth_cache._session_key(session.pk)
    cache.set(key, auth_cache.REVOKED)
    if announce:
        announced_elsewhere(key)


@pytest.fixture(autouse=True)
def _held_long(settings):
    """Long enough that only an announcement can end what is held (not the age limit)."""
    settings.NEAR_CACHE_SECONDS = 60


def held_client(user: CustomUser):
    """A client whose session and user this process holds: the first request of a session
    writes (and announces) its cache entries, the second reads and keeps them."""
    client = client_for(user)
    assert client.get(ME).status_code == 200
    assert client.get(ME).status_code == 200
    return client


@pytest.fixture
def held(user):
    return held_client(user)


def test_a_session_ended_in_another_process_is_refused_by_the_next_request(held, user):
    ended_elsewhere(user)
    response = held.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_revoked"


def test_a_held_session_is_not_checked_against_redis_again(held):
    refused = AssertionError("asked Redis for a held session")
    with mock.patch.object(cache, "get_many", side_effect=refused):
        assert held.get(ME).status_code == 200


def test_a_lost_announcement_still_ends_the_session_within_the_age_limit(user, clock, settings):
    client = held_client(user)
    ended_elsewhere(user, announce=False)
    clock.advance(settings.NEAR_CACHE_SECONDS - 0.1)
    assert client.get(ME).status_code == 200  # held: only the age limit can end it now
    clock.advance(0.2)
    assert client.get(ME).status_code == 401


def test_an_account_disabled_in_another_process_is_refused_by_the_next_request(held, user):
    CustomUser.objects.filter(pk=user.pk).update(is_active=False)
    cache.delete(auth_cache._user_key(user.pk))
    announced_elsewhere(auth_cache._user_key(user.pk))
    response = held.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "user_inactive"


def test_a_role_changed_in_another_process_shows_in_the_next_request(held, user):
    CustomUser.objects.filter(pk=user.pk).update(name="Changed elsewhere")
    cache.delete(auth_cache._user_key(user.pk))
    announced_elsewhere(auth_cache._user_key(user.pk))
    assert held.get(ME).json()["name"] == "Changed elsewhere"


def test_a_logout_in_this_process_refuses_the_token_at_once(held):
    response = held.post("/api/auth/logout/", {"refresh": held.token_pair.refresh})
    assert response.status_code == 204
    assert held.get(ME).status_code == 401


def test_a_logout_while_redis_is_down_refuses_the_token_in_this_process(held):
    with mock.patch.object(cache, "set_many", side_effect=redis.ConnectionError("down")):
        response = held.post("/api/auth/logout/", {"refresh": held.token_pair.refresh})
    assert response.status_code == 204
    assert held.get(ME).status_code == 401

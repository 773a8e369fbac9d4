"""The token design: rotation, reuse detection, absolute cap, immediate revocation, concurrency."""

import threading
import time
from datetime import timedelta

import jwt
import pytest
from django.db import connection
from django.utils import timezone

from accounts.auth import cache as auth_cache
from accounts.auth.services import (
    ClientInfo,
    auth_session_refresh,
    auth_session_start,
    auth_sessions_revoke,
)
from accounts.auth.state import auth_state
from accounts.auth.tokens import token_pair_issue
from accounts.errors import TokenNotValid
from accounts.models import AuthSession, RevokeReason
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

CLIENT = ClientInfo(user_agent="pytest", ip="127.0.0.1")


def claims(raw: str) -> dict:
    return jwt.decode(raw, options={"verify_signature": False})


def me(api_client, access: str):
    return api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {access}")


@pytest.mark.django_db
class TestIssuedTokens:
    def test_tokens_carry_type_session_issuer_and_audience(self, user, settings):
        session, pair = auth_session_start(user=user, client=CLIENT)
        access, refresh = claims(pair.access), claims(pair.refresh)
        assert access["token_type"] == "access"
        assert refresh["token_type"] == "refresh"
        for token in (access, refresh):
            assert token["sid"] == str(session.pk)
            assert token["user_id"] == user.pk
            assert token["iss"] == settings.SIMPLE_JWT["ISSUER"]
            assert token["aud"] == settings.SIMPLE_JWT["AUDIENCE"]
        assert refresh["jti"] == session.refresh_jti

    def test_tokens_are_signed_with_the_dedicated_key_not_secret_key(self, user, settings):
        _session, pair = auth_session_start(user=user, client=CLIENT)
        assert settings.JWT_SIGNING_KEY != settings.SECRET_KEY
        assert jwt.get_unverified_header(pair.access)["alg"] == "HS256"
        jwt.decode(
            pair.access,
            settings.JWT_SIGNING_KEY,
            algorithms=["HS256"],
            audience=settings.SIMPLE_JWT["AUDIENCE"],
        )
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(
                pair.access,
                settings.SECRET_KEY,
                algorithms=["HS256"],
                audience=settings.SIMPLE_JWT["AUDIENCE"],
            )

    def test_access_lives_at_most_15_minutes_and_refresh_14_days(self, user, settings):
        assert settings.ACCESS_TOKEN_LIFETIME <= timedelta(minutes=15)
        _session, pair = auth_session_start(user=user, client=CLIENT)
        access, refresh = claims(pair.access), claims(pair.refresh)
        now = timezone.now().timestamp()
        assert access["exp"] - now <= settings.ACCESS_TOKEN_LIFETIME.total_seconds() + 1
        assert refresh["exp"] - now == pytest.approx(
            settings.REFRESH_TOKEN_LIFETIME.total_seconds(), abs=2
        )

    def test_login_records_the_session_with_client_details(self, api_client, user):
        response = api_client.post(
            "/api/auth/login/",
            {"login": user.email, "password": "correct-horse-battery"},
            HTTP_USER_AGENT="Firefox/140",
            REMOTE_ADDR="10.1.2.3",
        )
        assert response.status_code == 200
        session = AuthSession.objects.get(user=user)
        assert session.user_agent == "Firefox/140"
        assert session.ip == "10.1.2.3"
        assert session.revoked_at is None
        assert claims(response.json()["access"])["sid"] == str(session.pk)


@pytest.mark.django_db
class TestRotation:
    def test_refresh_rotates_and_the_new_pair_works(self, api_client, user):
        session, pair = auth_session_start(user=user, client=CLIENT)
        response = api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh})
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access", "refresh"}
        assert body["refresh"] != pair.refresh
        session.refresh_from_db()
        assert session.refresh_jti == claims(body["refresh"])["jti"]
        assert me(api_client, body["access"]).status_code == 200

    def test_reusing_a_consumed_refresh_token_revokes_the_whole_session(self, api_client, user):
        session, pair = auth_session_start(user=user, client=CLIENT)
        successor = api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh}).json()

        replay = api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh})

        assert replay.status_code == 401
        assert replay.json()["error"]["code"] == "token_not_valid"
        session.refresh_from_db()
        assert session.revoked_at is not None
        assert session.revoke_reason == RevokeReason.REFRESH_REUSED
        # The legitimate-looking successor dies with the family, access tokens included.
        again = api_client.post("/api/auth/token/refresh/", {"refresh": successor["refresh"]})
        assert again.status_code == 401
        assert me(api_client, successor["access"]).status_code == 401
        assert me(api_client, pair.access).status_code == 401

    def test_reuse_in_one_session_leaves_other_sessions_alone(self, api_client, user):
        _first, first_pair = auth_session_start(user=user, client=CLIENT)
        second, second_pair = auth_session_start(user=user, client=CLIENT)
        auth_session_refresh(raw_refresh=first_pair.refresh, client=CLIENT)
        with pytest.raises(TokenNotValid):
            auth_session_refresh(raw_refresh=first_pair.refresh, client=CLIENT)
        second.refresh_from_db()
        assert second.revoked_at is None
        assert me(api_client, second_pair.access).status_code == 200

    def test_rotation_never_extends_the_absolute_session_cap(self, user, settings):
        session, pair = auth_session_start(user=user, client=CLIENT)
        cap = timezone.now() + timedelta(days=1)
        AuthSession.objects.filter(pk=session.pk).update(expires_at=cap)
        rotated = auth_session_refresh(raw_refresh=pair.refresh, client=CLIENT)
        assert claims(rotated.refresh)["exp"] <= int(cap.timestamp())
        assert claims(rotated.access)["exp"] <= int(cap.timestamp())

    def test_refresh_after_the_session_cap_is_refused(self, api_client, user):
        session, pair = auth_session_start(user=user, client=CLIENT)
        AuthSession.objects.filter(pk=session.pk).update(
            created_at=timezone.now() - timedelta(days=31),
            expires_at=timezone.now() - timedelta(seconds=1),
        )
        response = api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_not_valid"

    def test_session_cap_defaults_to_30_days(self, user, settings):
        session, _pair = auth_session_start(user=user, client=CLIENT)
        assert settings.AUTH_SESSION_MAX_AGE == timedelta(days=30)
        assert session.expires_at - session.created_at == timedelta(days=30)

    def test_refresh_of_a_deactivated_user_is_refused(self, api_client, user):
        _session, pair = auth_session_start(user=user, client=CLIENT)
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        response = api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh})
        assert response.status_code == 401


@pytest.mark.django_db
class TestImmediateRevocation:
    def test_logout_kills_that_sessions_access_and_refresh_at_once(self, api_client, user):
        _session, pair = auth_session_start(user=user, client=CLIENT)
        _other, other_pair = auth_session_start(user=user, client=CLIENT)
        assert me(api_client, pair.access).status_code == 200  # cached as live

        response = api_client.post("/api/auth/logout/", {"refresh": pair.refresh})

        assert response.status_code == 204
        assert me(api_client, pair.access).status_code == 401
        refresh = api_client.post("/api/auth/token/refresh/", {"refresh": pair.refresh})
        assert refresh.status_code == 401
        assert me(api_client, other_pair.access).status_code == 200

    def test_logout_all_ends_every_session(self, api_client, user):
        pairs = [auth_session_start(user=user, client=CLIENT)[1] for _ in range(3)]
        for pair in pairs:
            assert me(api_client, pair.access).status_code == 200

        response = api_client.post(
            "/api/auth/logout-all/", HTTP_AUTHORIZATION=f"Bearer {pairs[0].access}"
        )

        assert response.status_code == 204
        assert not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()
        for pair in pairs:
            assert me(api_client, pair.access).status_code == 401

    def test_deleting_one_session_ends_it_and_only_it(self, api_client, user):
        _current, current_pair = auth_session_start(user=user, client=CLIENT)
        other, other_pair = auth_session_start(user=user, client=CLIENT)
        assert me(api_client, other_pair.access).status_code == 200

        response = api_client.delete(
            f"/api/auth/sessions/{other.pk}/", HTTP_AUTHORIZATION=f"Bearer {current_pair.access}"
        )

        assert response.status_code == 204
        assert me(api_client, other_pair.access).status_code == 401
        assert me(api_client, current_pair.access).status_code == 200

    def test_revocation_is_seen_even_when_the_cache_said_live(
        self, api_client, user, django_capture_on_commit_callbacks
    ):
        session, pair = auth_session_start(user=user, client=CLIENT)
        assert me(api_client, pair.access).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            auth_sessions_revoke(user=user, reason=RevokeReason.STAFF, session_ids=[session.pk])
        assert me(api_client, pair.access).status_code == 401

    def test_database_is_the_truth_when_the_cache_is_unreachable(
        self, api_client, user, settings, django_capture_on_commit_callbacks
    ):
        session, pair = auth_session_start(user=user, client=CLIENT)
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
                "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
            }
        }
        assert me(api_client, pair.access).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            auth_sessions_revoke(user=user, reason=RevokeReason.STAFF, session_ids=[session.pk])
        assert me(api_client, pair.access).status_code == 401


UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


@pytest.mark.django_db
def test_login_and_refresh_work_while_the_cache_is_unreachable(api_client, user, settings):
    """The throttles' counters are out of reach: they let the request through rather than
    locking everybody out with a 500."""
    settings.CACHES = UNREACHABLE_CACHE
    login = api_client.post(
        "/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert login.status_code == 200, login.content
    refresh = api_client.post(
        "/api/auth/token/refresh/", {"refresh": login.json()["refresh"]}, format="json"
    )
    assert refresh.status_code == 200, refresh.content
    assert me(api_client, refresh.json()["access"]).status_code == 200


@pytest.mark.django_db
def test_a_revocation_the_cache_missed_is_seen_once_the_live_verdict_expires(
    api_client, user, settings
):
    """A logout written while Redis was away leaves a cached "live" behind; it lasts at most
    AUTH_LIVE_VERDICT_SECONDS, not the access token's whole lifetime."""
    settings.AUTH_LIVE_VERDICT_SECONDS = 3  # Redis keeps whole seconds; 3 leave a loaded CI time
    session, pair = auth_session_start(user=user, client=CLIENT)
    assert me(api_client, pair.access).status_code == 200  # "live" is cached now
    AuthSession.objects.filter(pk=session.pk).update(revoked_at=timezone.now())
    assert me(api_client, pair.access).status_code == 200  # the stale verdict, for now
    time.sleep(3.2)
    assert me(api_client, pair.access).status_code == 401


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_one_token_yield_at_most_one_live_successor():
    user = UserFactory()
    session, pair = auth_session_start(user=user, client=CLIENT)
    barrier = threading.Barrier(8)
    outcomes: list = []

    def refresh() -> None:
        barrier.wait()
        try:
            outcomes.append(auth_session_refresh(raw_refresh=pair.refresh, client=CLIENT))
        except TokenNotValid as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert len(outcomes) == 8
    assert len(winners) <= 1
    assert all(outcome == "token_not_valid" for outcome in outcomes if isinstance(outcome, str))
    session.refresh_from_db()
    live_successors = [
        w
        for w in winners
        if session.revoked_at is None and claims(w.refresh)["jti"] == session.refresh_jti
    ]
    assert len(live_successors) <= 1
    # The losers presented a token that had just been consumed: that is reuse, so the family ends.
    assert session.revoked_at is not None
    assert session.revoke_reason == RevokeReason.REFRESH_REUSED


@pytest.mark.django_db
def test_a_token_verified_earlier_in_this_process_still_expires(api_client, user):
    session, _pair = auth_session_start(user=user, client=CLIENT)
    short = token_pair_issue(
        user_id=user.pk,
        session_id=session.pk,
        refresh_jti=session.refresh_jti,
        cap=timezone.now() + timedelta(seconds=4),  # whole seconds: at least 3 to use it
    )
    assert me(api_client, short.access).status_code == 200  # now remembered as verified
    time.sleep(max(0.0, claims(short.access)["exp"] - time.time()) + 0.05)
    response = me(api_client, short.access)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


@pytest.mark.django_db
def test_a_revocation_the_cache_missed_reaches_it_without_another_request(
    api_client, user, settings, django_capture_on_commit_callbacks
):
    """The other processes trust the cache: the revoking process must write the revocation
    there once the cache is back even if it serves no further request (faults: Redis frozen)."""
    from django.core.cache import cache

    session, pair = auth_session_start(user=user, client=CLIENT)
    assert me(api_client, pair.access).status_code == 200  # "live" is cached
    reachable = settings.CACHES
    settings.CACHES = UNREACHABLE_CACHE
    with django_capture_on_commit_callbacks(execute=True):
        auth_sessions_revoke(user=user, reason=RevokeReason.STAFF, session_ids=[session.pk])
    settings.CACHES = reachable

    deadline = time.monotonic() + 3
    while cache.get(f"auth:session:{session.pk}") != auth_cache.REVOKED:
        assert time.monotonic() < deadline, "the revocation never reached the cache"
        time.sleep(0.05)
    assert auth_state.revocations_not_cached == {}


@pytest.mark.django_db
def test_a_revocation_the_cache_missed_is_written_once_it_is_back(
    api_client, user, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    session, pair = auth_session_start(user=user, client=CLIENT)
    assert me(api_client, pair.access).status_code == 200  # "live" is cached
    reachable = settings.CACHES
    settings.CACHES = UNREACHABLE_CACHE
    with django_capture_on_commit_callbacks(execute=True):
        auth_sessions_revoke(user=user, reason=RevokeReason.STAFF, session_ids=[session.pk])
    settings.CACHES = reachable
    monkeypatch.setattr(auth_state, "cache_paused_until", 0.0)  # the pause is over
    assert (
        cache.get(f"auth:session:{session.pk}") == f"{auth_cache.LIVE}:{user.pk}"
    )  # stale, for now
    assert me(api_client, pair.access).status_code == 401
    assert cache.get(f"auth:session:{session.pk}") == auth_cache.REVOKED
    assert auth_state.revocations_not_cached == {}

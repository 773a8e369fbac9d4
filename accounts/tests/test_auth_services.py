"""The rules of login sessions and their tokens, called directly (no HTTP): reading the refresh
token a request presents, refresh, logout, ending one session, verifying a token, and the one
state object of the token machinery."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.auth.cookies import refresh_token_presented
from accounts.auth.selectors import token_verify
from accounts.auth.services import (
    ClientInfo,
    auth_session_delete,
    auth_session_logout,
    auth_session_refresh,
    auth_session_start,
)
from accounts.auth.state import AuthState, auth_state
from accounts.auth.tokens import token_pair_issue
from accounts.errors import (
    OriginNotAllowed,
    RefreshTokenMissing,
    SessionNotFound,
    TokenExpired,
    TokenNotValid,
)
from accounts.models import AuthSession, RevokeReason
from accounts.tests.factories import UserFactory

CLIENT = ClientInfo(user_agent="pytest")
ALLOWED_ORIGIN = "https://app.example.com"


def post(body=None, **headers) -> Request:
    raw = APIRequestFactory().post("/api/auth/token/refresh/", body or {}, format="json", **headers)
    return Request(raw, parsers=[JSONParser()])


@pytest.fixture
def cookie_mode(settings):
    settings.AUTH_REFRESH_COOKIE = True
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED_ORIGIN]


# --- The refresh token a request presents -----------------------------------------------------


def test_the_body_field_is_the_refresh_token_outside_cookie_mode():
    assert refresh_token_presented(post({"refresh": "a.b.c"})) == "a.b.c"


@pytest.mark.parametrize("value", [None, 42, "", ["a.b.c"], {"token": "a.b.c"}])
def test_a_refresh_field_that_is_not_a_token_string_is_not_valid(value):
    with pytest.raises(TokenNotValid):
        refresh_token_presented(post({"refresh": value}))


def test_no_refresh_field_is_a_validation_error_outside_cookie_mode():
    with pytest.raises(serializers.ValidationError) as refused:
        refresh_token_presented(post({}))
    assert "refresh" in refused.value.detail


@pytest.mark.usefixtures("cookie_mode")
def test_cookie_mode_reads_the_cookie_from_an_allowed_origin(settings):
    request = post(HTTP_ORIGIN=ALLOWED_ORIGIN)
    request._request.COOKIES[settings.AUTH_REFRESH_COOKIE_NAME] = "a.b.c"

    assert refresh_token_presented(request) == "a.b.c"


@pytest.mark.usefixtures("cookie_mode")
def test_cookie_mode_without_a_cookie_asks_to_log_in_again():
    with pytest.raises(RefreshTokenMissing) as refused:
        refresh_token_presented(post(HTTP_ORIGIN=ALLOWED_ORIGIN))
    assert (refused.value.code, refused.value.status) == ("not_authenticated", 401)


@pytest.mark.usefixtures("cookie_mode")
@pytest.mark.parametrize(
    "origin",
    [None, "https://evil.example.com", "null", "ftp://app.example.com", f"{ALLOWED_ORIGIN}.evil"],
)
def test_cookie_mode_refuses_other_origins_before_reading_anything(settings, origin):
    headers = {"HTTP_ORIGIN": origin} if origin else {}
    request = post({"refresh": "a.b.c"}, **headers)
    request._request.COOKIES[settings.AUTH_REFRESH_COOKIE_NAME] = "a.b.c"

    with pytest.raises(OriginNotAllowed) as refused:
        refresh_token_presented(request)
    assert (refused.value.code, refused.value.status) == ("origin_not_allowed", 403)


# --- Refresh and logout ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["", "not-a-token", "a.b.c"])
def test_refreshing_with_garbage_is_not_valid(raw):
    with pytest.raises(TokenNotValid) as refused:
        auth_session_refresh(raw_refresh=raw, client=CLIENT)
    assert (refused.value.code, refused.value.status) == ("token_not_valid", 401)


@pytest.mark.django_db
def test_an_access_token_is_no_refresh_token():
    user = UserFactory()
    _session, pair = auth_session_start(user=user, client=CLIENT)

    with pytest.raises(TokenNotValid):
        auth_session_refresh(raw_refresh=pair.access, client=CLIENT)
    with pytest.raises(TokenNotValid):
        auth_session_logout(raw_refresh=pair.access)


@pytest.mark.django_db
def test_a_replayed_refresh_token_is_not_valid_and_ends_its_session():
    user = UserFactory()
    session, pair = auth_session_start(user=user, client=CLIENT)
    auth_session_refresh(raw_refresh=pair.refresh, client=CLIENT)

    with pytest.raises(TokenNotValid):
        auth_session_refresh(raw_refresh=pair.refresh, client=CLIENT)
    session.refresh_from_db()
    assert session.revoke_reason == RevokeReason.REFRESH_REUSED


@pytest.mark.django_db
def test_the_refresh_of_a_deactivated_user_is_not_valid_and_ends_their_sessions():
    user = UserFactory()
    session, pair = auth_session_start(user=user, client=CLIENT)
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(TokenNotValid):
        auth_session_refresh(raw_refresh=pair.refresh, client=CLIENT)
    session.refresh_from_db()
    assert session.revoke_reason == RevokeReason.DEACTIVATED


@pytest.mark.django_db
def test_logout_ends_the_session_once():
    user = UserFactory()
    session, pair = auth_session_start(user=user, client=CLIENT)

    auth_session_logout(raw_refresh=pair.refresh)

    session.refresh_from_db()
    assert session.revoke_reason == RevokeReason.LOGOUT
    with pytest.raises(TokenNotValid):
        auth_session_logout(raw_refresh=pair.refresh)


@pytest.mark.django_db
def test_logout_with_a_consumed_refresh_token_is_not_valid_and_ends_nothing():
    user = UserFactory()
    session, pair = auth_session_start(user=user, client=CLIENT)
    auth_session_refresh(raw_refresh=pair.refresh, client=CLIENT)

    with pytest.raises(TokenNotValid):
        auth_session_logout(raw_refresh=pair.refresh)
    session.refresh_from_db()
    assert session.revoked_at is None


# --- Ending one session ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_user_ends_one_of_their_sessions():
    user = UserFactory()
    session, _pair = auth_session_start(user=user, client=CLIENT)
    other, _other_pair = auth_session_start(user=user, client=CLIENT)

    auth_session_delete(user=user, session_id=session.pk)

    session.refresh_from_db()
    other.refresh_from_db()
    assert session.revoke_reason == RevokeReason.SESSION_DELETED
    assert other.revoked_at is None
    with pytest.raises(SessionNotFound):  # already ended
        auth_session_delete(user=user, session_id=session.pk)


@pytest.mark.django_db
def test_another_users_session_is_not_found_and_stays_live():
    user, stranger = UserFactory(), UserFactory()
    session, _pair = auth_session_start(user=stranger, client=CLIENT)

    with pytest.raises(SessionNotFound) as refused:
        auth_session_delete(user=user, session_id=session.pk)
    assert (refused.value.code, refused.value.status) == ("not_found", 404)
    assert AuthSession.objects.get(pk=session.pk).revoked_at is None


# --- Verifying a token -------------------------------------------------------------------------


@pytest.mark.django_db
def test_live_access_and_refresh_tokens_verify():
    user = UserFactory()
    _session, pair = auth_session_start(user=user, client=CLIENT)

    token_verify(raw=pair.access)
    token_verify(raw=pair.refresh)


@pytest.mark.django_db
def test_an_expired_access_token_is_expired_not_invalid():
    user = UserFactory()
    session, _pair = auth_session_start(user=user, client=CLIENT)
    expired = token_pair_issue(
        user_id=user.pk,
        session_id=session.pk,
        refresh_jti=session.refresh_jti,
        cap=timezone.now() - timedelta(seconds=5),
    )

    with pytest.raises(TokenExpired) as refused:
        token_verify(raw=expired.access)
    assert (refused.value.code, refused.value.status) == ("token_expired", 401)
    with pytest.raises(TokenNotValid):
        token_verify(raw=expired.refresh)


@pytest.mark.django_db
@pytest.mark.parametrize("ending", ["logout", "deactivation", "rotation"])
def test_tokens_of_an_ended_session_or_a_consumed_refresh_token_are_not_valid(ending):
    user = UserFactory()
    _session, pair = auth_session_start(user=user, client=CLIENT)
    if ending == "logout":
        auth_session_logout(raw_refresh=pair.refresh)
    elif ending == "deactivation":
        type(user).objects.filter(pk=user.pk).update(is_active=False)
    else:
        auth_session_refresh(raw_refresh=pair.refresh, client=CLIENT)

    with pytest.raises(TokenNotValid):
        token_verify(raw=pair.refresh)
    if ending != "rotation":
        with pytest.raises(TokenNotValid):
            token_verify(raw=pair.access)


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["", "x", "a.b.c"])
def test_garbage_does_not_verify(raw):
    with pytest.raises(TokenNotValid):
        token_verify(raw=raw)


# --- The state of the token machinery ----------------------------------------------------------


def test_one_reset_forgets_everything_the_process_remembered():
    state = AuthState()
    state.verified_tokens[b"raw"] = object()
    state.cache_paused_until = 1e12
    state.revocations_not_cached["auth:session:x"] = "0"

    state.reset()

    assert state.verified_tokens == {}
    assert state.cache_paused_until == 0.0
    assert state.revocations_not_cached == {}


def test_the_suite_starts_each_test_from_a_fresh_state():
    assert auth_state.verified_tokens == {}
    assert auth_state.cache_paused_until == 0.0
    assert auth_state.revocations_not_cached == {}

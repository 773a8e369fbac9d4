"""Writes of login sessions: start one, rotate its refresh token, end one or all of them."""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.auth.cache import session_started, sessions_mark_revoked
from accounts.auth.tokens import TokenPair, refresh_token_decode, token_pair_issue
from accounts.errors import SessionNotFound, TokenNotValid
from accounts.models import AuthSession, CustomUser, RevokeReason
from accounts.registry import sessions_ended


def _sessions_ended(session_ids: list) -> None:
    """After commit: every instance refuses their tokens, and other apps (chat) hear of it."""
    sessions_mark_revoked(session_ids)
    if session_ids:
        sessions_ended.announce_now(session_ids=session_ids)


@dataclass(frozen=True)
class ClientInfo:
    """Where a login comes from, recorded on its session."""

    user_agent: str = ""
    ip: str | None = None


def auth_session_start(*, user: CustomUser, client: ClientInfo) -> tuple[AuthSession, TokenPair]:
    now = timezone.now()
    session = AuthSession.objects.create(
        user=user,
        refresh_jti=uuid.uuid4().hex,
        created_at=now,
        last_used_at=now,
        expires_at=now + settings.AUTH_SESSION_MAX_AGE,
        user_agent=client.user_agent[:256],
        ip=client.ip,
    )
    CustomUser.objects.filter(pk=user.pk).update(last_login=now)
    session_started(session=session, user=user)
    pair = token_pair_issue(
        user_id=user.pk,
        session_id=session.pk,
        refresh_jti=session.refresh_jti,
        cap=session.expires_at,
    )
    return session, pair


def auth_session_refresh(*, raw_refresh: str, client: ClientInfo) -> TokenPair:
    """Rotate: consume the presented refresh token atomically and issue its one successor.

    The compare-and-set on `refresh_jti` lets exactly one of several concurrent refreshes win.
    A refresh token that was already consumed means it leaked (or a client raced itself): the
    whole session is revoked (RFC 9700 section 4.14.2).
    """
    token = refresh_token_decode(raw_refresh)
    session_id, presented_jti = token["sid"], token["jti"]
    now = timezone.now()
    successor_jti = uuid.uuid4().hex
    rotated = AuthSession.objects.filter(
        pk=session_id,
        user_id=token["user_id"],
        refresh_jti=presented_jti,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).update(refresh_jti=successor_jti, last_used_at=now, ip=client.ip)
    if not rotated:
        _revoke_if_reused(session_id=session_id, presented_jti=presented_jti, now=now)
        raise TokenNotValid()
    session = AuthSession.objects.select_related("user").get(pk=session_id)
    if not session.user.is_active:
        auth_sessions_revoke(user=session.user, reason=RevokeReason.DEACTIVATED)
        raise TokenNotValid()
    return token_pair_issue(
        user_id=session.user_id,
        session_id=session.pk,
        refresh_jti=successor_jti,
        cap=session.expires_at,
    )


def _revoke_if_reused(*, session_id, presented_jti: str, now) -> None:
    revoked = (
        AuthSession.objects.filter(pk=session_id, revoked_at__isnull=True, expires_at__gt=now)
        .exclude(refresh_jti=presented_jti)
        .update(revoked_at=now, revoke_reason=RevokeReason.REFRESH_REUSED)
    )
    if revoked:
        _sessions_ended([session_id])


def auth_sessions_revoke(
    *,
    user: CustomUser,
    reason: str,
    session_ids: list | None = None,
    keep_session_id=None,
) -> int:
    """End the user's live sessions (all, or those named); their access tokens die at once."""
    live = AuthSession.objects.filter(user=user, revoked_at__isnull=True)
    if session_ids is not None:
        live = live.filter(pk__in=session_ids)
    if keep_session_id is not None:
        live = live.exclude(pk=keep_session_id)
    with transaction.atomic():
        ids = list(live.select_for_update().values_list("pk", flat=True))
        AuthSession.objects.filter(pk__in=ids).update(
            revoked_at=timezone.now(), revoke_reason=reason
        )
        transaction.on_commit(lambda: _sessions_ended(ids))
    return len(ids)


def auth_session_delete(*, user: CustomUser, session_id) -> None:
    """The user ends one of their live sessions; another user's is as unknown as none at all."""
    ended = auth_sessions_revoke(
        user=user, reason=RevokeReason.SESSION_DELETED, session_ids=[session_id]
    )
    if not ended:
        raise SessionNotFound()


def auth_session_logout(*, raw_refresh: str) -> None:
    """End the session the refresh token belongs to; the token is the credential, so this works
    after the access token expired."""
    token = refresh_token_decode(raw_refresh)
    session = AuthSession.objects.filter(pk=token["sid"], user_id=token["user_id"]).first()
    if session is None or session.refresh_jti != token["jti"] or not session.is_live:
        raise TokenNotValid()
    auth_sessions_revoke(user=session.user, reason=RevokeReason.LOGOUT, session_ids=[session.pk])

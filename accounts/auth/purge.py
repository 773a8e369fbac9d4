"""Retention of login sessions: a session expired or revoked more than
AUTH_SESSION_RETENTION_DAYS ago can never be used again, and its row goes (manage.py
purge_expired; registered by AccountsConfig.ready())."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q

from accounts.models import AuthSession
from core.purge import delete_in_batches


def auth_sessions_purge(*, now, batch_size: int) -> int:
    cutoff = now - timedelta(days=settings.AUTH_SESSION_RETENTION_DAYS)
    ended_long_ago = AuthSession.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff))
    return delete_in_batches(ended_long_ago, batch_size=batch_size)

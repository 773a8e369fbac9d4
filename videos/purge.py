"""Retention of raw watch events: the progress computed from them lives in VideoProgress (spans,
watched seconds, budget, completion), so deleting old events never changes what was watched."""

from datetime import timedelta

from django.conf import settings

from core.purge import delete_in_batches
from videos.models import WatchEvent


def watch_events_purge(*, now, batch_size: int) -> int:
    """Events older than WATCH_EVENT_RETENTION_DAYS (the staff history loses them)."""
    cutoff = now - timedelta(days=settings.WATCH_EVENT_RETENTION_DAYS)
    old_events = WatchEvent.objects.filter(created_at__lt=cutoff)
    return delete_in_batches(old_events, batch_size=batch_size)

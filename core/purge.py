"""Deleting rows that outlived their retention, a bounded batch at a time (manage.py
purge_expired runs every registered purger, see core.registry)."""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from core.registry import purger_registry


def delete_in_batches(queryset: QuerySet, *, batch_size: int) -> int:
    """Delete the rows of `queryset`, at most `batch_size` per transaction, so a large backlog
    never holds its locks for long; returns how many rows of its model went."""
    label = queryset.model._meta.label
    total = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        with transaction.atomic():
            _count, per_model = queryset.filter(pk__in=ids).delete()
        total += per_model.get(label, 0)
        if len(ids) < batch_size:
            return total


def purge_all(*, now: datetime, batch_size: int) -> dict[str, int]:
    """Every registered purger in turn (manage.py purge_expired, the daily task): rows handled
    per purger."""
    return {
        name: purge(now=now, batch_size=batch_size) for name, purge in purger_registry.purgers()
    }

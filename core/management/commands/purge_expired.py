"""Delete what has outlived its retention: every purger the apps registered (core.registry), in
bounded batches; idempotent, so it may run as often as wanted (production: daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.registry import purger_registry


class Command(BaseCommand):
    help = (
        "Purge expired rows: idempotency records (IDEMPOTENCY_RETENTION_HOURS), watch events "
        "(WATCH_EVENT_RETENTION_DAYS), old login sessions (AUTH_SESSION_RETENTION_DAYS)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Rows deleted per transaction (default: PURGE_BATCH_SIZE).",
        )

    def handle(self, *args, batch_size=None, **options):
        batch_size = batch_size or settings.PURGE_BATCH_SIZE
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        now = timezone.now()
        total = 0
        for name, purge in purger_registry.purgers():
            deleted = purge(now=now, batch_size=batch_size)
            total += deleted
            self.stdout.write(f"{name}: {deleted} deleted")
        self.stdout.write(self.style.SUCCESS(f"purge_expired: {total} rows deleted"))

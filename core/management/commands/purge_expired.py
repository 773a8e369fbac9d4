"""Delete what has outlived its retention: every purger the apps registered (core.registry), in
bounded batches; idempotent, so it may run as often as wanted (production: daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core.purge import purge_all


class Command(BaseCommand):
    help = (
        "Purge expired rows: idempotency records (IDEMPOTENCY_RETENTION_HOURS), watch events "
        "(WATCH_EVENT_RETENTION_DAYS), old login sessions (AUTH_SESSION_RETENTION_DAYS), outgoing "
        "mail (MAIL_RETENTION_DAYS)."
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
        deleted = purge_all(now=timezone.now(), batch_size=batch_size)
        for name, count in deleted.items():
            self.stdout.write(f"{name}: {count} deleted")
        total = sum(deleted.values())
        self.stdout.write(self.style.SUCCESS(f"purge_expired: {total} rows deleted"))

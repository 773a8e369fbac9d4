"""Retention: `manage.py purge_expired` (run it daily) deletes what is older."""

from datetime import timedelta

from config.settings.environment import env

# Idempotency-Key outcomes: a retry after this long runs the request again.
IDEMPOTENCY_RETENTION = timedelta(hours=env.int("IDEMPOTENCY_RETENTION_HOURS", default=72))
# Raw watch events (the staff history); the progress computed from them is kept.
WATCH_EVENT_RETENTION_DAYS = env.int("WATCH_EVENT_RETENTION_DAYS", default=180)
# Login sessions this many days after they expired or were revoked.
AUTH_SESSION_RETENTION_DAYS = env.int("AUTH_SESSION_RETENTION_DAYS", default=90)
# Outgoing mail (core.mail's outbox), sent or given up, this many days after it was queued.
MAIL_RETENTION_DAYS = env.int("MAIL_RETENTION_DAYS", default=30)
# Rows deleted per statement, so a purge never holds long locks.
PURGE_BATCH_SIZE = env.int("PURGE_BATCH_SIZE", default=5000)

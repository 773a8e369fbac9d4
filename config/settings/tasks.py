"""Background jobs: Celery on the Redis broker, and what beat runs when.

Without a broker (`make run`, the test suite) a task runs in the process that queued it, once
the transaction that queued it has committed (core.tasks_queue.enqueue_on_commit): the
zero-configuration path sends the same mail and purges the same rows, only in the foreground.
Production refuses to run without a broker, as it refuses a per-process cache.
"""

from celery.schedules import crontab

from config.settings.environment import env
from config.settings.media import VIDEO_PROCESS_TIME_LIMIT, VIDEO_REQUEUE_EVERY_SECONDS

_REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or _REDIS_URL
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# An eager task that fails raises where it was queued; a worker's retries cannot happen there.
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# At-least-once: a task is acknowledged when it has finished, and a worker killed mid-task
# gives it back to the queue; every task is idempotent (core.tasks).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis gives an unacknowledged task to another worker after this many seconds: longer than any
# task may run (CELERY_TASK_TIME_LIMIT).
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # The video task has its own, longer limit (VIDEO_PROCESS_TIME_LIMIT).
    "visibility_timeout": max(CELERY_TASK_TIME_LIMIT, VIDEO_PROCESS_TIME_LIMIT) + 5 * 60,
    # A request that queues a task waits at most this long for a Redis that stopped answering
    # (the task is queued again later, core.tasks_queue); longer than the worker's 1 s BRPOP.
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    # One attempt to connect when publishing: kombu's default retries for up to
    # CELERY_BROKER_CONNECTION_TIMEOUT (4 s) and redis-py's own backoff made a request wait 6 s
    # for a broker that refuses connections. The worker's reconnecting loop has its own policy.
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_SEND_TASK_EVENTS = False
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True

# What the `beat` service queues, and when (UTC).
_PURGE_HOUR, _PURGE_MINUTE = (int(part) for part in env("PURGE_AT", default="04:00").split(":"))
CELERY_BEAT_SCHEDULE = {
    "purge-expired": {
        "task": "core.tasks.purge_expired",
        "schedule": crontab(hour=_PURGE_HOUR, minute=_PURGE_MINUTE),
    },
    "mails-requeue": {"task": "core.tasks.mails_requeue", "schedule": 60.0},
    "orders-expire": {"task": "payments.tasks.orders_expire", "schedule": 60.0},
    "payments-reconcile": {"task": "payments.tasks.payments_reconcile", "schedule": 60.0},
    "videos-requeue": {
        "task": "videos.tasks.videos_requeue",
        "schedule": float(VIDEO_REQUEUE_EVERY_SECONDS),
    },
}
# Mail a worker has not sent this long after it was queued is queued again (the broker was
# away when it was first queued, or the task was lost); at most MAIL_ATTEMPTS sends are tried.
MAIL_REQUEUE_AFTER_SECONDS = env.int("MAIL_REQUEUE_AFTER_SECONDS", default=120)
MAIL_ATTEMPTS = env.int("MAIL_ATTEMPTS", default=8)

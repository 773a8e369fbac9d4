"""Queueing a Celery task once the transaction that made its work has committed.

The database holds what each task is about (a mail, a video to process), so a broker that is
away when a task is queued loses nothing: the failure is logged, not raised into the request
that committed, and a periodic task queues again what is still undone (core.mail's requeue).
"""

import logging

from celery import current_app
from django.db import transaction

from core.pause import Pause

logger = logging.getLogger(__name__)

# After a failure to reach the broker this process stops trying for a while: a broker that is
# down costs one request its connection timeouts, not every request (the work waits in the
# database meanwhile and is queued again).
PAUSE_SECONDS = 5.0


broker_state = Pause()


def enqueue_now(task_name: str, **kwargs) -> None:
    """Queue `task_name` with `kwargs`, without retrying a broker that is away; without a broker
    (CELERY_TASK_ALWAYS_EAGER) the task runs here and now."""
    eager = current_app.conf.task_always_eager
    if not eager and broker_state.active():
        logger.info("broker paused: %s %s left for its requeue", task_name, kwargs)
        return
    try:
        if task_name not in current_app.tasks:
            # Each app's tasks.py is imported on a worker's start; elsewhere on first use.
            current_app.loader.import_default_modules()
        current_app.tasks[task_name].apply_async(kwargs=kwargs, retry=False)
    except Exception:
        if not eager:
            broker_state.start(PAUSE_SECONDS)
        logger.warning("could not queue %s %s", task_name, kwargs, exc_info=True)


def enqueue_on_commit(task_name: str, **kwargs) -> None:
    transaction.on_commit(lambda: enqueue_now(task_name, **kwargs))

"""Celery tasks of core: thin wrappers around services, each idempotent (a worker killed
mid-task gives it back to the queue, CELERY_TASK_ACKS_LATE), retried with backoff."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from core import mail, purge

# Backoff between a failed mail's attempts: 30 s, 60 s, 120 s ... at most 30 min, jittered.
MAIL_BACKOFF = {"retry_backoff": 30, "retry_backoff_max": 30 * 60, "retry_jitter": True}


@shared_task(bind=True, autoretry_for=(mail.MailNotSent,), max_retries=None, **MAIL_BACKOFF)
def mail_deliver(self, *, mail_id: int) -> bool:
    try:
        return mail.mail_deliver(mail_id=mail_id)
    except mail.MailNotSent:
        if self.request.is_eager:  # no worker to retry it later: the requeue will
            return False
        raise


@shared_task
def mails_requeue() -> int:
    return mail.mails_requeue()


@shared_task
def purge_expired() -> dict[str, int]:
    return purge.purge_all(now=timezone.now(), batch_size=settings.PURGE_BATCH_SIZE)

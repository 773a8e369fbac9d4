"""Mail through a transactional outbox: queued with the transaction that asks for it, sent by a
worker once it has committed (core.tasks.mail_deliver), never lost to a broker that was away
(mails_requeue) and never sent by two workers at once (the row is locked while it is sent).

A mail can still go twice if a worker dies between the SMTP server's answer and its commit:
delivery is at least once, as SMTP's own is.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core.models import OutgoingMail
from core.purge import delete_in_batches
from core.tasks_queue import enqueue_now, enqueue_on_commit

logger = logging.getLogger(__name__)


def mail_queue(*, subject: str, body: str, to: list[str]) -> OutgoingMail:
    """Inside the caller's transaction: nothing is sent if it rolls back."""
    mail = OutgoingMail.objects.create(subject=subject[:255], body=body, to=list(to))
    enqueue_on_commit("core.tasks.mail_deliver", mail_id=mail.pk)
    return mail


class MailNotSent(Exception):
    """The mail backend refused or failed; the attempt is recorded and the task retries."""


def mail_deliver(*, mail_id: int) -> bool:
    """Send the mail unless it was sent, its attempts are spent, or another worker is sending it
    now; True once it is sent. MailNotSent, after recording the attempt, if the backend failed."""
    failure: Exception | None = None
    with transaction.atomic():
        mail = (
            OutgoingMail.objects.select_for_update(skip_locked=True)
            .filter(pk=mail_id, sent_at__isnull=True, attempts__lt=settings.MAIL_ATTEMPTS)
            .first()
        )
        if mail is None:
            return OutgoingMail.objects.filter(pk=mail_id, sent_at__isnull=False).exists()
        mail.attempts += 1
        try:
            send_mail(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, mail.to)
        except Exception as exc:  # whatever the backend raises: SMTP, DNS, a closed socket
            failure = exc
            mail.last_error = f"{type(exc).__name__}: {exc}"[:500]
            mail.save(update_fields=("attempts", "last_error"))
        else:
            mail.sent_at = timezone.now()
            mail.save(update_fields=("attempts", "sent_at"))
    if failure is not None:
        logger.warning("mail %s not sent (attempt %s): %s", mail_id, mail.attempts, failure)
        raise MailNotSent(mail.last_error) from failure
    return True


def mails_requeue(*, now: datetime | None = None) -> int:
    """Queue again every mail still unsent MAIL_REQUEUE_AFTER_SECONDS after it was queued (the
    broker was away, or its task was lost) while it has attempts left; how many."""
    now = now or timezone.now()
    due = OutgoingMail.objects.filter(
        sent_at__isnull=True,
        attempts__lt=settings.MAIL_ATTEMPTS,
        created_at__lte=now - timedelta(seconds=settings.MAIL_REQUEUE_AFTER_SECONDS),
    ).values_list("pk", flat=True)
    ids = list(due[:1000])
    for mail_id in ids:  # rows already committed: nothing to wait for
        enqueue_now("core.tasks.mail_deliver", mail_id=mail_id)
    return len(ids)


def outgoing_mails_purge(*, now: datetime, batch_size: int) -> int:
    """Mail rows older than MAIL_RETENTION_DAYS, sent or not (one unsent by then was given up)."""
    cutoff = now - timedelta(days=settings.MAIL_RETENTION_DAYS)
    return delete_in_batches(
        OutgoingMail.objects.filter(created_at__lt=cutoff), batch_size=batch_size
    )

"""Sending mail once the transaction that asked for it has committed."""

import logging
import threading

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

logger = logging.getLogger(__name__)


def _send(*, subject: str, body: str, to: list[str]) -> None:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    except Exception:
        logger.exception("could not send mail %r", subject)


def mail_send_after_commit(*, subject: str, body: str, to: list[str]) -> None:
    """In the background where configured, so the response time does not tell who has an account."""

    def send() -> None:
        if settings.EMAIL_SEND_IN_BACKGROUND:
            threading.Thread(
                target=_send, kwargs={"subject": subject, "body": body, "to": to}
            ).start()
        else:
            _send(subject=subject, body=body, to=to)

    transaction.on_commit(send)

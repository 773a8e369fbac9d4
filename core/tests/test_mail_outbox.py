"""Mail through the outbox, called as the tasks call it (eagerly, CELERY_TASK_ALWAYS_EAGER in
tests): written with the transaction that asks for it, sent once after the commit, never sent
for a rolled-back transaction, retried after a failure and queued again when the broker was
away; core/tests/test_tasks_worker.py runs the same through a real worker and Redis."""

import socket
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core import tasks_queue
from core.mail import MailNotSent, mail_deliver, mail_queue, mails_requeue, outgoing_mails_purge
from core.models import OutgoingMail

pytestmark = pytest.mark.django_db
RESET = "/api/auth/password/reset/"


class BrokenBackend:
    """An SMTP server that refuses every mail."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp refused")


def _aged(mail_row: OutgoingMail, seconds: int) -> None:
    OutgoingMail.objects.filter(pk=mail_row.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_reset_mail_is_sent_once_after_the_commit_and_recorded(api_client):
    user = UserFactory()
    assert api_client.post(RESET, {"email": user.email}, format="json").status_code == 202
    row = OutgoingMail.objects.get()
    assert [m.to for m in mail.outbox] == [[user.email]] == [row.to]
    assert row.sent_at is not None and row.attempts == 1 and row.last_error == ""
    assert mail_deliver(mail_id=row.pk) is True  # a replayed task
    assert len(mail.outbox) == 1


def test_nothing_is_sent_or_kept_for_a_rolled_back_transaction(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        mail_queue(subject="s", body="b", to=["a@example.com"])
        raise RuntimeError("the request failed")
    assert not OutgoingMail.objects.exists() and mail.outbox == []


def test_a_failed_send_is_recorded_and_sent_by_a_later_requeue(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "core.tests.test_mail_outbox.BrokenBackend"
    row = mail_queue(subject="s", body="b", to=["a@example.com"])
    with pytest.raises(MailNotSent):
        mail_deliver(mail_id=row.pk)
    row.refresh_from_db()
    assert (row.sent_at, row.attempts) == (None, 1)
    assert row.last_error == "ConnectionRefusedError: smtp refused"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert mails_requeue() == 0  # too recent: its own task may still be on the way
    _aged(row, settings.MAIL_REQUEUE_AFTER_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert mails_requeue() == 1
    row.refresh_from_db()
    assert row.sent_at is not None and row.attempts == 2 and len(mail.outbox) == 1


def test_a_mail_whose_attempts_are_spent_is_left_alone(settings):
    settings.MAIL_ATTEMPTS = 2
    row = mail_queue(subject="s", body="b", to=["a@example.com"])
    OutgoingMail.objects.filter(pk=row.pk).update(attempts=2)
    _aged(row, settings.MAIL_REQUEUE_AFTER_SECONDS + 1)
    assert mails_requeue() == 0
    assert mail_deliver(mail_id=row.pk) is False
    assert mail.outbox == []


@pytest.fixture
def broker_at(monkeypatch):
    """Queue tasks for real (not eagerly) to the broker at a URL, with fresh connection pools;
    everything restored afterwards."""

    def point(url: str) -> None:
        monkeypatch.setitem(current_app.conf, "task_always_eager", False)
        monkeypatch.setitem(current_app.conf, "broker_url", url)
        monkeypatch.setattr(current_app, "_pool", None)
        monkeypatch.setattr(current_app.amqp, "_producer_pool", None)

    yield point
    monkeypatch.undo()
    current_app._pool = None
    current_app.amqp._producer_pool = None


def test_a_broker_that_is_away_loses_no_mail(
    api_client, settings, broker_at, django_capture_on_commit_callbacks
):
    """The request still answers; the mail waits in the outbox for the requeue."""
    broker_at("redis://127.0.0.1:9/0")  # nothing listens there
    user = UserFactory()
    assert api_client.post(RESET, {"email": user.email}, format="json").status_code == 202
    row = OutgoingMail.objects.get()
    assert row.sent_at is None and mail.outbox == []
    current_app.conf["task_always_eager"] = True
    _aged(row, settings.MAIL_REQUEUE_AFTER_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        mails_requeue()
    row.refresh_from_db()
    assert row.sent_at is not None and [m.to for m in mail.outbox] == [[user.email]]


def test_a_broker_that_stopped_answering_holds_a_request_a_bounded_time(broker_at):
    """A Redis frozen mid-way (it accepts and never answers): queueing gives up within the
    transport's socket timeouts instead of hanging the request."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        broker_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        tasks_queue.enqueue_now("core.tasks.mails_requeue")
        assert time.monotonic() - started < 10
    finally:
        silent.close()


def test_a_broker_that_refuses_connections_holds_a_request_under_two_seconds(broker_at):
    """A Redis that is down (nothing listens): one attempt to connect, not kombu's retries for
    its connection timeout plus redis-py's backoff (6 s per request before)."""
    broker_at("redis://127.0.0.1:9/0")  # nothing listens there
    started = time.monotonic()
    tasks_queue.enqueue_now("core.tasks.mails_requeue")
    assert time.monotonic() - started < 2


def test_after_a_broker_failure_the_process_pauses_and_then_tries_again(broker_at, monkeypatch):
    """A broker that is down costs one request its timeouts, not every request."""
    broker_at("redis://127.0.0.1:9/0")
    current_app.loader.import_default_modules()
    sent = []

    def refuse(*args, **kwargs):
        sent.append(kwargs)
        raise ConnectionRefusedError("broker down")

    task = current_app.tasks["core.tasks.mails_requeue"]
    monkeypatch.setattr(task, "apply_async", refuse)
    tasks_queue.enqueue_now("core.tasks.mails_requeue")
    tasks_queue.enqueue_now("core.tasks.mails_requeue")  # paused: not tried
    assert len(sent) == 1
    tasks_queue.broker_state.paused_until = time.monotonic() - 1
    tasks_queue.enqueue_now("core.tasks.mails_requeue")
    assert len(sent) == 2


def test_queueing_an_unknown_task_is_logged_not_raised(monkeypatch):
    logged = []
    monkeypatch.setattr(tasks_queue.logger, "warning", lambda *args, **kw: logged.append(args))
    tasks_queue.enqueue_now("core.tasks.no_such_task", x=1)
    assert logged and logged[0][1] == "core.tasks.no_such_task"


def test_the_purge_deletes_mail_past_its_retention_and_nothing_newer(settings):
    old, recent = (mail_queue(subject=s, body="b", to=["a@example.com"]) for s in ("o", "r"))
    _aged(old, settings.MAIL_RETENTION_DAYS * 86400 + 60)
    _aged(recent, settings.MAIL_RETENTION_DAYS * 86400 - 60)
    assert outgoing_mails_purge(now=timezone.now(), batch_size=1) == 1
    assert list(OutgoingMail.objects.values_list("subject", flat=True)) == ["r"]

"""Tasks through the real pieces: a Celery worker process (`celery -A config worker`, started by
tools.app as the `worker` service runs it) on the Redis broker, over this test's PostgreSQL
database. The task is queued by name through the broker, as the web process queues it."""

import os
import time
import uuid
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.mail import mail_queue
from core.models import OutgoingMail
from courses.tests.factories import CourseFactory
from payments.models import Order, OrderStatus
from payments.tests.flows import order_for
from payments.tests.test_order_expiry import age
from tools import app
from tools.procs import stop

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = [
    pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (the broker)"),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="the worker process shares the test database: PostgreSQL only",
    ),
    pytest.mark.django_db(transaction=True),
]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="module")
def running(django_db_setup, django_db_blocker, tmp_path_factory):
    """A worker on a queue of its own (tests in other processes share the Redis), over this
    process's test database; queue a task by name as the web process does."""
    queue = f"test-{uuid.uuid4().hex[:12]}"
    log = Path(tmp_path_factory.mktemp("worker")) / "worker.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "CELERY_BROKER_URL": REDIS_URL, "DATABASE_URL": _database_url()}  # fmt: skip
    process = app.celery_worker(env, log, queue=queue)
    try:
        app.wait_worker_ready(log, process)
        # Not the current app: the project's (eager in tests) must stay current for the tests
        # this process runs afterwards, or their tasks would go to a broker nobody reads.
        sender = Celery(broker=REDIS_URL, set_as_current=False)
        yield lambda name, **kwargs: sender.send_task(name, kwargs=kwargs, queue=queue)
    finally:
        stop({"worker": process})


def _until(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError("the worker did not get it done")


def test_the_sender_leaves_the_projects_app_current(running):
    from celery import current_app

    from config.celery import app as project_app

    assert current_app.main == project_app.main and current_app.conf.task_always_eager


def test_the_worker_sends_a_queued_mail_once(running):
    row = mail_queue(subject="Welcome", body="hello", to=["a@example.com"])
    running("core.tasks.mail_deliver", mail_id=row.pk)
    running("core.tasks.mail_deliver", mail_id=row.pk)  # a duplicate delivery of the task
    sent = _until(lambda: OutgoingMail.objects.filter(pk=row.pk, sent_at__isnull=False).first())
    time.sleep(0.5)
    sent.refresh_from_db()
    assert sent.attempts == 1 and sent.last_error == ""


def test_the_worker_expires_stale_orders(running, settings):
    client = client_for(UserFactory())
    order_id = order_for(client, CourseFactory(price=10000))["id"]
    age(order_id, settings.ORDER_PENDING_TTL + 3600, payments=False)
    running("payments.tasks.orders_expire")
    _until(lambda: Order.objects.filter(pk=order_id, status=OrderStatus.EXPIRED).exists())

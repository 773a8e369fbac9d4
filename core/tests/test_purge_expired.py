"""`manage.py purge_expired`: every app's registered purger deletes what outlived its retention
(idempotency records, watch events, long-ended login sessions), in bounded batches, prints the
counts, deletes nothing more when run again, and never touches what is still in use."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import AuthSession
from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.models import IdempotencyRecord
from core.registry import purger_registry
from courses.tests.factories import EnrollmentFactory
from videos.models import VideoProgress, WatchEvent
from videos.tests.factories import VideoFactory

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def purge(**options) -> str:
    out = io.StringIO()
    call_command("purge_expired", stdout=out, **options)
    return out.getvalue()


def counts(output: str) -> dict[str, int]:
    lines = [line.rsplit(": ", 1) for line in output.splitlines() if line.endswith(" deleted")]
    return {name: int(text.split()[0]) for name, text in lines if name != "purge_expired"}


def mine(deleted: dict[str, int]) -> dict[str, int]:
    """The counts of the purgers this file tests (other apps register theirs too)."""
    return {
        name: deleted[name] for name in ("idempotency records", "watch events", "auth sessions")
    }


def records(user, *, ages: list[timedelta]) -> list[IdempotencyRecord]:
    made = []
    for age in ages:
        record = IdempotencyRecord.objects.create(
            user=user, key=uuid.uuid4().hex, fingerprint="f", status_code=201, response_body={}
        )
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
        made.append(record)
    return made


def session(user, *, expired_ago: timedelta | None = None, revoked_ago: timedelta | None = None):
    now = timezone.now()
    expires_at = now - expired_ago if expired_ago is not None else now + 30 * DAY
    return AuthSession.objects.create(
        user=user,
        refresh_jti=uuid.uuid4().hex,
        created_at=expires_at - 30 * DAY,
        last_used_at=expires_at - 30 * DAY,
        expires_at=expires_at,
        revoked_at=now - revoked_ago if revoked_ago is not None else None,
    )


@pytest.fixture
def watched(settings):
    """A learner who watched 10 s of a 20 s video through the API, with old events."""
    settings.VIDEO_WATCH_ALLOWANCE_SECONDS = 5.0
    video = VideoFactory(duration=20.0)
    learner = UserFactory()
    EnrollmentFactory(user=learner, course=video.topic.lecture.course)
    client = client_for(learner)
    url = f"/api/videos/{video.pk}/events/"
    client.post(url, {"event_type": "play", "position": 0})
    for start in (0, 5):
        VideoProgress.objects.update(last_event_at=timezone.now() - timedelta(seconds=5))
        client.post(url, {"event_type": "progress", "position": start + 5, "from": start,
                          "to": start + 5})  # fmt: skip
    WatchEvent.objects.update(created_at=timezone.now() - 400 * DAY)
    return client, video, learner


def test_every_app_registers_its_purger():
    names = [name for name, _purge in purger_registry.purgers()]
    assert {"idempotency records", "watch events", "auth sessions"} <= set(names)


def test_old_rows_go_in_one_run_recent_ones_stay_and_a_second_run_deletes_nothing(
    settings, watched
):
    settings.IDEMPOTENCY_RETENTION = timedelta(hours=72)
    settings.WATCH_EVENT_RETENTION_DAYS = 180
    settings.AUTH_SESSION_RETENTION_DAYS = 90
    user = UserFactory()
    old_records = records(user, ages=[4 * DAY, 30 * DAY])
    fresh_records = records(user, ages=[timedelta(hours=71)])
    old_sessions = [session(user, expired_ago=91 * DAY), session(user, revoked_ago=91 * DAY)]
    kept_sessions = [
        session(user),
        session(user, expired_ago=89 * DAY),
        session(user, revoked_ago=DAY),
    ]
    _client, video, _learner = watched
    recent_event = WatchEvent.objects.create(user=user, video=video, event_type="play", position=0)

    output = purge()

    assert mine(counts(output)) == {"idempotency records": 2, "watch events": 3, "auth sessions": 2}
    assert f"purge_expired: {sum(counts(output).values())} rows deleted" in output
    assert not IdempotencyRecord.objects.filter(pk__in=[r.pk for r in old_records]).exists()
    assert IdempotencyRecord.objects.filter(pk__in=[r.pk for r in fresh_records]).count() == 1
    assert not AuthSession.objects.filter(pk__in=[s.pk for s in old_sessions]).exists()
    assert AuthSession.objects.filter(pk__in=[s.pk for s in kept_sessions]).count() == 3
    assert list(WatchEvent.objects.values_list("pk", flat=True)) == [recent_event.pk]

    again = purge()
    assert set(counts(again).values()) == {0}


def test_purging_watch_events_keeps_the_progress_computed_from_them(watched):
    client, video, learner = watched
    before = VideoProgress.objects.filter(user=learner).values().get()
    assert before["watched_seconds"] == pytest.approx(10)

    assert counts(purge())["watch events"] == 3

    assert VideoProgress.objects.filter(user=learner).values().get() == before
    body = client.get(f"/api/videos/{video.pk}/progress/").json()
    assert body["watched_seconds"] == pytest.approx(10)
    VideoProgress.objects.update(last_event_at=timezone.now() - timedelta(seconds=10))
    body = client.post(
        f"/api/videos/{video.pk}/events/",
        {"event_type": "ended", "position": 20, "from": 10, "to": 20},
    ).json()
    assert (body["watched_seconds"], body["completed"]) == (pytest.approx(20), True)


def test_a_backlog_is_deleted_in_batches_of_the_given_size():
    user = UserFactory()
    records(user, ages=[10 * DAY] * 7)
    with CaptureQueriesContext(connection) as queries:
        output = purge(batch_size=3)
    deletes = [
        q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "core_idempotencyrecord"')
    ]
    assert len(deletes) == 3  # 3 + 3 + 1
    assert counts(output)["idempotency records"] == 7
    assert not IdempotencyRecord.objects.exists()


def test_an_idempotency_key_purged_runs_its_request_again():
    """Documented trade-off: a retry later than the retention is a new request."""
    user = UserFactory()
    (record,) = records(user, ages=[10 * DAY])
    purge()
    IdempotencyRecord.objects.create(user=user, key=record.key, fingerprint="other")
    assert IdempotencyRecord.objects.get(user=user, key=record.key).fingerprint == "other"


def test_a_batch_size_below_one_is_refused():
    with pytest.raises(CommandError):
        purge(batch_size=-1)

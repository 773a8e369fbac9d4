"""Watched time cannot be faked faster than the server's clock: whatever the events claim, the
time counted never exceeds the server time spent watching (from the first event, each gap
between events up to VIDEO_WATCH_IDLE_SECONDS) x VIDEO_MAX_PLAYBACK_RATE + the allowance.
Honest players reporting every 5-10 s at 1x or 2x still complete."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import on_own_connection
from courses.models import TopicProgress
from courses.tests.factories import EnrollmentFactory
from videos.models import Video, VideoProgress, WatchEvent
from videos.tests.factories import VideoFactory

ALLOWANCE = 5.0
RATE = 2.0
IDLE = 60.0


@pytest.fixture(autouse=True)
def _rules(settings):
    settings.VIDEO_WATCH_ALLOWANCE_SECONDS = ALLOWANCE
    settings.VIDEO_MAX_PLAYBACK_RATE = RATE
    settings.VIDEO_WATCH_IDLE_SECONDS = IDLE


def make_video(duration: float) -> Video:
    return VideoFactory.create(duration=duration)


@pytest.fixture
def viewer(db):
    return UserFactory()


@pytest.fixture
def film(viewer):
    """A 600 s video the viewer is enrolled for."""
    video = make_video(600.0)
    EnrollmentFactory(user=viewer, course=video.topic.lecture.course)
    return video


def send(client, video, event_type="progress", position=None, span=None, headers=None, **extra):
    body = {"event_type": event_type, "position": position if position is not None else 0}
    if span is not None:
        body.update({"from": span[0], "to": span[1]})
        if position is None:
            body["position"] = span[1]
    response = client.post(f"/api/videos/{video.pk}/events/", {**body, **extra}, **(headers or {}))
    assert response.status_code == 201, response.content
    return response.json()


def wall_clock_passes(user, video, seconds: float) -> None:
    """As if `seconds` of server time had passed since the viewer's last event."""
    VideoProgress.objects.filter(user=user, video=video).update(
        last_event_at=F("last_event_at") - timedelta(seconds=seconds),
        started_at=F("started_at") - timedelta(seconds=seconds),
    )


def progress_of(user, video) -> VideoProgress:
    return VideoProgress.objects.get(user=user, video=video)


def completed(user, video) -> bool:
    return TopicProgress.objects.filter(
        user=user, topic=video.topic, completed_at__isnull=False
    ).exists()


@pytest.mark.django_db
class TestAttacks:
    def test_a_burst_of_108_six_second_spans_counts_only_the_seconds_it_took(self, viewer, film):
        client = client_for(viewer)
        started = time.monotonic()
        send(client, film, "play")
        for n in range(108):  # the whole film, and a few spans again
            body = send(client, film, span=(6 * n % 600, 6 * n % 600 + 6))
        elapsed = time.monotonic() - started
        assert body["watched_seconds"] <= ALLOWANCE + RATE * elapsed + 1e-6
        assert body["completed"] is False
        assert not completed(viewer, film)
        assert WatchEvent.objects.filter(user=viewer).count() == 109

    def test_a_first_event_claiming_a_whole_clip_counts_only_the_allowance(self, viewer):
        clip = make_video(10.0)
        EnrollmentFactory(user=viewer, course=clip.topic.lecture.course)
        client = client_for(viewer)
        body = send(client, clip, span=(0, 10))
        assert body["watched_seconds"] == pytest.approx(ALLOWANCE, abs=1e-6)
        assert body["completed"] is False
        body = send(client, clip, "ended", position=10, span=(0, 10))
        assert body["watched_seconds"] < 9
        assert not completed(viewer, clip)

    def test_one_giant_span_counts_only_the_time_since_the_start(self, viewer, film):
        client = client_for(viewer)
        started = time.monotonic()
        send(client, film, "play")
        wall_clock_passes(viewer, film, 10)
        body = send(client, film, span=(0, 600))
        budget = ALLOWANCE + RATE * (10 + time.monotonic() - started)
        assert ALLOWANCE + RATE * 10 <= body["watched_seconds"] <= budget
        spans = progress_of(viewer, film).watched_spans
        assert spans == [[0, pytest.approx(body["watched_seconds"], abs=0.01)]]
        assert body["completed"] is False

    def test_pressing_play_and_coming_back_a_week_later_does_not_count_the_week(self, viewer, film):
        client = client_for(viewer)
        send(client, film, "play")
        wall_clock_passes(viewer, film, 7 * 24 * 3600)
        body = send(client, film, "ended", position=600, span=(0, 600))
        assert body["watched_seconds"] <= ALLOWANCE + RATE * IDLE + 0.5
        assert body["completed"] is False

    def test_seeking_around_and_claiming_spans_everywhere_shares_one_budget(self, viewer, film):
        client = client_for(viewer)
        started = time.monotonic()
        send(client, film, "play")
        for position in range(0, 600, 30):
            send(client, film, "seek", position=position)
            body = send(client, film, span=(position, position + 30))
        elapsed = time.monotonic() - started
        assert body["watched_seconds"] <= ALLOWANCE + RATE * elapsed + 1e-6
        assert body["completed"] is False

    @pytest.mark.parametrize(
        "claims",
        [
            {"timestamp": "2100-01-01T00:00:00Z"},
            {"client_time": 4102444800, "elapsed": 10_000, "rate": 100},
            {"started_at": "2000-01-01T00:00:00Z", "watch_budget_seconds": 10_000},
        ],
        ids=["future-timestamp", "client-elapsed", "budget-fields"],
    )
    def test_times_and_budgets_the_client_sends_are_ignored(self, viewer, film, claims):
        client = client_for(viewer)
        started = time.monotonic()
        send(client, film, "play")
        wall_clock_passes(viewer, film, 10)
        future = {"HTTP_DATE": "Fri, 01 Jan 2100 00:00:00 GMT"}
        body = send(client, film, span=(0, 600), headers=future, **claims)
        budget = ALLOWANCE + RATE * (10 + time.monotonic() - started)
        assert body["watched_seconds"] <= budget
        progress = progress_of(viewer, film)
        assert progress.watch_budget_seconds <= budget
        assert progress.started_at.year == timezone.now().year

    def test_the_database_refuses_more_watched_than_the_budget(self, viewer, film):
        with pytest.raises(IntegrityError), transaction.atomic():
            VideoProgress.objects.create(
                user=viewer, video=film, watched_seconds=10, watch_budget_seconds=9
            )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_tabs_share_one_budget(viewer, film):
    """16 requests at once, each claiming its own 30 s: the row lock orders them, and the budget
    grows with the server time between them, not with their number."""
    started = time.monotonic()
    send(client_for(viewer), film, "play")
    wall_clock_passes(viewer, film, 10)
    clients = [client_for(viewer) for _ in range(16)]
    barrier = threading.Barrier(len(clients))
    statuses = []

    @on_own_connection
    def tab(index: int) -> None:
        barrier.wait()
        body = {"event_type": "progress", "position": 30 * index + 30}
        body.update({"from": 30 * index, "to": 30 * index + 30})
        statuses.append(clients[index].post(f"/api/videos/{film.pk}/events/", body).status_code)

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert statuses == [201] * len(clients)
    progress = progress_of(viewer, film)
    assert progress.watched_seconds <= ALLOWANCE + RATE * (10 + elapsed) + 1e-6
    assert progress.watched_seconds <= progress.watch_budget_seconds
    assert progress.completed_at is None
    assert WatchEvent.objects.filter(user=viewer).count() == 1 + len(clients)


@pytest.mark.django_db
class TestHonestPlayers:
    @pytest.mark.parametrize(
        ("rate", "every"),
        [(1.0, 10), (1.0, 5), (2.0, 5), (2.0, 10), (1.5, 7)],
        ids=["1x-every-10s", "1x-every-5s", "2x-every-5s", "2x-every-10s", "1.5x-every-7s"],
    )
    def test_a_player_reporting_every_few_seconds_completes_the_video(
        self, viewer, film, rate, every
    ):
        client = client_for(viewer)
        send(client, film, "play")
        position = 0.0
        while position < 600:
            wall_clock_passes(viewer, film, every)
            step = min(rate * every, 600 - position)
            body = send(client, film, span=(position, position + step))
            position += step
        assert body["watched_seconds"] == pytest.approx(600)
        assert body["completed"] is True
        assert completed(viewer, film)

    def test_pauses_seeks_and_rewatching_cost_an_honest_viewer_nothing(self, viewer, film):
        client = client_for(viewer)
        send(client, film, "play")
        for start in range(0, 300, 10):  # the first half at 1x
            wall_clock_passes(viewer, film, 10)
            send(client, film, span=(start, start + 10))
        send(client, film, "pause", position=300)
        wall_clock_passes(viewer, film, 3600)  # an hour away
        send(client, film, "play", position=300)
        for start in range(100, 140, 10):  # rewinds to re-watch a part: counted once
            wall_clock_passes(viewer, film, 10)
            send(client, film, span=(start, start + 10))
        send(client, film, "seek", position=300)
        for start in range(300, 600, 10):
            wall_clock_passes(viewer, film, 10)
            body = send(client, film, span=(start, start + 10))
        assert body["watched_seconds"] == pytest.approx(600)
        assert body["completed"] is True

    def test_a_first_heartbeat_that_arrives_late_loses_only_what_the_allowance_misses(
        self, viewer, film
    ):
        """A player that sends no `play` and reports 10 s at once first: the allowance counts, the
        rest of that first span is not; the next heartbeats count in full."""
        client = client_for(viewer)
        body = send(client, film, span=(0, 10))
        assert body["watched_seconds"] == pytest.approx(ALLOWANCE)
        for start in range(10, 600, 10):
            wall_clock_passes(viewer, film, 10)
            body = send(client, film, span=(start, start + 10))
        assert body["watched_seconds"] == pytest.approx(600 - (10 - ALLOWANCE))
        assert body["completed"] is True

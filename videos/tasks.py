"""Celery tasks of videos: thin wrappers around services, idempotent."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from videos.services import processing

# A storage or broker hiccup: retried after 30 s, 60 s, 120 s ... (at most 10 min), 5 times.
RETRIES = 5


@shared_task(
    bind=True,
    max_retries=RETRIES,
    time_limit=settings.VIDEO_PROCESS_TIME_LIMIT + 120,
    soft_time_limit=settings.VIDEO_PROCESS_TIME_LIMIT + 60,
)
def video_process(self, *, video_id: int) -> str:
    """Make the video's HLS renditions, poster and thumbnails; the task's id is its claim, kept
    by a retry and by a redelivery after its worker died."""
    worker = self.request.id or f"eager-{video_id}"
    try:
        return processing.video_process(video_id=video_id, worker=worker)
    except SoftTimeLimitExceeded:
        processing.video_gave_up(video_id=video_id, worker=worker)
        return "failed"
    except Exception as error:
        if self.request.is_eager or self.request.retries >= RETRIES:
            processing.video_gave_up(video_id=video_id, worker=worker)
            raise
        countdown = min(30 * 2**self.request.retries, 600)
        raise self.retry(exc=error, countdown=countdown) from error


@shared_task
def videos_requeue() -> int:
    return processing.videos_requeue()

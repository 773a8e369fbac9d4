"""The videos admin opens, and watching stays read-only there."""

import pytest

from accounts.tests.factories import UserFactory
from videos.models import Video, VideoProgress
from videos.tests.factories import VideoFactory


@pytest.fixture
def video():
    return VideoFactory(title="Intro", file="videos/intro.mp4", size=10)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["image", "video", "videoprogress", "watchevent"])
def test_every_videos_admin_page_opens(admin_client, video, page):
    VideoProgress.objects.create(
        user=UserFactory(), video=video, watched_seconds=2, watch_budget_seconds=5
    )
    assert admin_client.get(f"/admin/videos/{page}/").status_code == 200


@pytest.mark.django_db
def test_progress_cannot_be_edited_in_the_admin(admin_client, video):
    progress = VideoProgress.objects.create(
        user=UserFactory(), video=video, watched_seconds=2, watch_budget_seconds=5
    )
    response = admin_client.post(
        f"/admin/videos/videoprogress/{progress.pk}/change/", {"watched_seconds": 4}
    )
    assert response.status_code == 403
    progress.refresh_from_db()
    assert progress.watched_seconds == 2


@pytest.mark.django_db
def test_staff_see_but_cannot_set_the_processing_state(admin_client, video):
    Video.objects.filter(pk=video.pk).update(status="failed", failure_reason="Not decodable.")
    page = admin_client.get(f"/admin/videos/video/{video.pk}/change/")
    assert page.status_code == 200 and b"Not decodable." in page.content
    admin_client.post(
        f"/admin/videos/video/{video.pk}/change/",
        {"title": "Intro", "owner": video.owner_id, "status": "ready", "failure_reason": ""},
    )
    video.refresh_from_db()
    assert (video.status, video.failure_reason) == ("failed", "Not decodable.")

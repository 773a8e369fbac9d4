"""The video rules called directly, without HTTP: what an upload must be (video_upload), who may
upload (videos.permissions) and who may watch (video_get_for_watching, video_progress)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.errors import FileTooLarge
from courses.errors import NotEntitled
from courses.models import TopicType
from courses.tests.factories import EnrollmentFactory, TopicFactory
from videos.errors import InvalidVideo
from videos.models import MAX_DURATION_SECONDS, Video
from videos.permissions import user_can_upload_videos
from videos.selectors.videos import video_get_for_watching, video_progress
from videos.services.videos import video_upload
from videos.tests.factories import as_processed
from videos.tests.video_files import MP4, mp4

NOT_A_VIDEO = "This is not a complete MP4, WebM or QuickTime video."
TOO_LONG = "Videos may be at most 24 hours long."


def file_of(data: bytes, name: str = "lecture.mp4") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="video/mp4")


@pytest.fixture
def video(db):
    topic = TopicFactory(type=TopicType.VIDEO, lecture__course__tutor=TutorFactory())
    tutor = topic.lecture.course.tutor
    return as_processed(video_upload(owner=tutor, file=file_of(MP4), title="Lecture", topic=topic))


@pytest.mark.django_db
class TestVideoUpload:
    def test_a_real_mp4_is_stored_with_the_type_and_duration_of_its_content(self, tutor):
        video = video_upload(owner=tutor, file=file_of(MP4, "notes.webm"), title="Lecture")

        assert (video.content_type, video.size, video.owner) == ("video/mp4", len(MP4), tutor)
        assert video.duration == pytest.approx(4.0, abs=0.1)
        assert Video.objects.get() == video

    def test_bytes_that_are_no_video_are_invalid_video_on_the_file_field(self, tutor):
        with pytest.raises(InvalidVideo) as raised:
            video_upload(owner=tutor, file=file_of(b"MZ" + b"\x00" * 500), title="Lecture")

        assert (raised.value.code, raised.value.status_code) == ("invalid_video", 400)
        assert (str(raised.value.message), raised.value.fields) == (
            NOT_A_VIDEO,
            {"file": [NOT_A_VIDEO]},
        )
        assert not Video.objects.exists()

    def test_a_video_longer_than_a_day_is_invalid_video_saying_so(self, tutor):
        too_long = file_of(mp4(1, MAX_DURATION_SECONDS + 1))

        with pytest.raises(InvalidVideo) as raised:
            video_upload(owner=tutor, file=too_long, title="Lecture")

        assert (str(raised.value.message), raised.value.fields) == (TOO_LONG, {"file": [TOO_LONG]})
        assert not Video.objects.exists()

    def test_a_file_past_the_limit_is_file_too_large(self, tutor, settings):
        settings.VIDEO_MAX_UPLOAD_BYTES = 1000

        with pytest.raises(FileTooLarge) as raised:
            video_upload(owner=tutor, file=file_of(MP4), title="Lecture")

        assert (raised.value.code, raised.value.status_code) == ("file_too_large", 413)
        assert str(raised.value.message) == "Videos may be at most 1000\xa0bytes."
        assert raised.value.fields == {"file": ["Too large."]}
        assert not Video.objects.exists()


@pytest.mark.django_db
def test_tutors_and_staff_upload_videos_and_nobody_else():
    assert user_can_upload_videos(TutorFactory())
    assert user_can_upload_videos(StaffFactory())
    assert not user_can_upload_videos(UserFactory())
    assert not user_can_upload_videos(AnonymousUser())


@pytest.mark.django_db
class TestWatching:
    def test_the_owner_staff_and_the_enrolled_may_watch(self, video):
        learner = UserFactory()
        EnrollmentFactory(user=learner, course=video.topic.lecture.course)

        for user in (video.owner, StaffFactory(), learner):
            assert video_get_for_watching(user=user, video_id=video.pk) == video

    def test_someone_not_enrolled_is_not_entitled(self, video):
        outsider = UserFactory()

        with pytest.raises(NotEntitled):
            video_get_for_watching(user=outsider, video_id=video.pk)
        with pytest.raises(NotEntitled):
            video_progress(user=outsider, video_id=video.pk)

    def test_a_video_in_no_topic_or_an_unknown_id_is_404_to_others(self, video):
        Video.objects.filter(pk=video.pk).update(topic=None)

        for video_id in (video.pk, video.pk + 1000):
            with pytest.raises(Http404):
                video_get_for_watching(user=UserFactory(), video_id=video_id)
        assert video_get_for_watching(user=video.owner, video_id=video.pk) == video

    def test_progress_before_any_event_is_an_unsaved_zero(self, video):
        progress = video_progress(user=video.owner, video_id=video.pk)

        assert progress.pk is None
        assert (progress.video, progress.watched_seconds, progress.position) == (video, 0, 0)

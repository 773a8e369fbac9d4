"""Numbers from the client that once became 500s: a Range with thousands of digits (past int()'s
limit), a user id in Unicode digits, NaN and infinity as positions. Each is a 4xx in the envelope
(or, for Range, ignored or 416 as RFC 9110 allows) and writes nothing."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.models import TopicType
from courses.tests.factories import EnrollmentFactory, TopicFactory
from videos.models import Video, VideoProgress, WatchEvent

MP4 = (Path(__file__).parent / "fixtures" / "tiny.mp4").read_bytes()


@pytest.fixture
def video(db):
    topic = TopicFactory(type=TopicType.VIDEO, lecture__course__tutor=TutorFactory())
    client = client_for(topic.lecture.course.tutor)
    file = SimpleUploadedFile("lecture.mp4", MP4, content_type="video/mp4")
    response = client.post(
        "/api/videos/", {"file": file, "title": "Lecture", "topic": topic.pk}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return Video.objects.get()


@pytest.fixture
def student(video):
    learner = UserFactory()
    EnrollmentFactory(user=learner, course=video.topic.lecture.course)
    return client_for(learner)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
class TestRange:
    WHOLE = (0, len(MP4) - 1)

    @pytest.mark.parametrize(
        ("header", "status", "wanted"),
        [
            pytest.param("bytes=0-" + "9" * 4400, 206, WHOLE, id="4400-digit-end"),
            pytest.param("bytes=-" + "9" * 4400, 206, WHOLE, id="4400-digit-suffix"),
            pytest.param("bytes=100-1" + "0" * 30, 206, (100, len(MP4) - 1), id="31-digit-end"),
            pytest.param("bytes=²-", 200, WHOLE, id="superscript"),
            pytest.param("bytes=\u0663-\u0669", 200, WHOLE, id="arabic-indic"),
            pytest.param("bytes=0-9 , 20-29", 200, WHOLE, id="multiple"),
        ],
    )
    def test_a_hostile_range_is_clipped_or_ignored(self, video, student, header, status, wanted):
        first, last = wanted
        response = student.get(f"/api/videos/{video.pk}/stream/", HTTP_RANGE=header)
        assert response.status_code == status
        assert body_of(response) == MP4[first : last + 1]
        if status == 206:
            assert response["Content-Range"] == f"bytes {first}-{last}/{len(MP4)}"

    def test_a_4400_digit_start_is_416(self, video, student):
        response = student.get(
            f"/api/videos/{video.pk}/stream/", HTTP_RANGE="bytes=" + "9" * 4400 + "-"
        )
        assert_error_envelope(response, 416, "range_not_satisfiable")
        assert response["Content-Range"] == f"bytes */{len(MP4)}"


@pytest.mark.django_db
class TestEventHistoryFilter:
    @pytest.mark.parametrize(
        "value",
        ["²", "\u0661", "\uff11", "12²", "-1", "0", "1.0", "1e3", "0x1", "9" * 20, "9" * 4400],
        ids=["superscript", "arabic-indic", "fullwidth", "trailing-superscript", "negative",
             "zero", "float", "exponent", "hex", "20-digits", "4400-digits"],
    )  # fmt: skip
    def test_a_user_that_is_not_an_id_is_400_naming_it(self, video, staff_client, value):
        response = staff_client.get(f"/api/videos/{video.pk}/events/", {"user": value})
        error = assert_error_envelope(response, 400, "validation_error")
        assert list(error["fields"]) == ["user"]

    def test_a_user_id_beyond_any_row_lists_nothing(self, video, staff_client):
        response = staff_client.get(f"/api/videos/{video.pk}/events/", {"user": str(2**63 - 1)})
        assert (response.status_code, response.json()["count"]) == (200, 0)


@pytest.mark.django_db
class TestEventNumbers:
    @pytest.mark.parametrize(
        "body",
        [
            {"event_type": "play", "position": "NaN"},
            {"event_type": "play", "position": "Infinity"},
            {"event_type": "play", "position": "-Infinity"},
            {"event_type": "play", "position": "1e309"},
            {"event_type": "play", "position": 1e308},
            {"event_type": "progress", "position": 1, "from": 0, "to": "NaN"},
            {"event_type": "progress", "position": 1, "from": "NaN", "to": 1},
            {"event_type": "progress", "position": 1, "from": 0, "to": "Infinity"},
            {"event_type": "progress", "position": 1, "from": 0, "to": 1e308},
            {"event_type": "progress", "position": 1, "from": 0, "to": "9" * 400},
        ],
    )
    def test_nan_infinite_or_huge_numbers_are_400_and_nothing_is_written(
        self, video, student, body
    ):
        response = student.post(f"/api/videos/{video.pk}/events/", body)
        assert_error_envelope(response, 400, "validation_error")
        assert not WatchEvent.objects.exists()
        assert not VideoProgress.objects.exists()

    def test_a_nan_literal_in_the_json_is_a_parse_error(self, video, student):
        response = student.post(
            f"/api/videos/{video.pk}/events/",
            '{"event_type": "play", "position": NaN}',
            content_type="application/json",
        )
        assert_error_envelope(response, 400, "parse_error")
        assert not WatchEvent.objects.exists()

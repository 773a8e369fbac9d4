"""Course thumbnails go through the same checks as /api/images/ (core.images)."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory
from core.testing import assert_error_envelope
from courses.models import Course
from courses.tests.factories import CourseFactory


def png(width: int = 2400, height: int = 1200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def put(client, course, data: bytes, name: str = "cover.png"):
    file = SimpleUploadedFile(name, data, content_type="image/png")
    return client.put(f"/api/courses/{course.pk}/thumbnail/", {"file": file}, format="multipart")


@pytest.mark.django_db
class TestThumbnail:
    def test_the_tutor_sets_a_thumbnail_that_is_re_encoded_and_fitted(self, settings):
        course = CourseFactory()
        response = put(client_for(course.tutor), course, png())
        assert response.status_code == 200, response.content
        course.refresh_from_db()
        stored = Path(settings.MEDIA_ROOT) / course.thumbnail.name
        with Image.open(stored) as image:
            assert image.format == "WEBP"
            assert max(image.size) == settings.IMAGE_MAX_BOX
        assert response.json()["thumbnail"].endswith(course.thumbnail.name)

    def test_every_course_response_gives_the_same_absolute_thumbnail_url(self):
        """Found by `make fuzz`: the detail responses said "/media/...", the lists
        "http://host/media/...", and the schema promises a URI."""
        course = CourseFactory(is_published=True)
        client = client_for(course.tutor)

        put_response = put(client, course, png(10, 10))
        course.refresh_from_db()
        url = f"http://testserver/media/{course.thumbnail.name}"

        assert put_response.json()["thumbnail"] == url
        assert client.get(f"/api/courses/{course.pk}/").json()["thumbnail"] == url
        assert client.patch(f"/api/courses/{course.pk}/", {}).json()["thumbnail"] == url
        listed = client.get("/api/courses/", {"mine": "true"}).json()["results"]
        assert [item["thumbnail"] for item in listed] == [url]

    @pytest.mark.parametrize("data", [b"not an image at all", png()[:200]], ids=["text", "cut"])
    def test_a_broken_file_is_400_and_the_old_thumbnail_stays(self, data):
        course = CourseFactory()
        client = client_for(course.tutor)
        put(client, course, png(100, 100))
        course.refresh_from_db()
        before = course.thumbnail.name
        assert_error_envelope(put(client, course, data), 400, "invalid_image")
        course.refresh_from_db()
        assert course.thumbnail.name == before

    def test_another_tutor_is_403_and_anonymous_401(self, api_client):
        course = CourseFactory()
        assert_error_envelope(put(client_for(TutorFactory()), course, png(10, 10)), 403)
        assert_error_envelope(put(api_client, course, png(10, 10)), 401)
        assert not Course.objects.get(pk=course.pk).thumbnail

    def test_replacing_or_deleting_removes_the_old_file(
        self, settings, django_capture_on_commit_callbacks
    ):
        course = CourseFactory()
        client = client_for(course.tutor)
        put(client, course, png(50, 50))
        course.refresh_from_db()
        first = Path(settings.MEDIA_ROOT) / course.thumbnail.name
        assert first.exists()
        put(client, course, png(60, 60))
        assert not first.exists()
        assert client.delete(f"/api/courses/{course.pk}/thumbnail/").status_code == 204
        course.refresh_from_db()
        assert not course.thumbnail

"""One rule for every file URL: the avatar (rendered without a request, then cached), the image
list and course thumbnails give the same absolute URL for the same stored file."""

import pytest

from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from courses.models import Course
from courses.tests.factories import CourseFactory, EnrollmentFactory
from videos.models import UserAvatar
from videos.tests.factories import ImageFactory


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def every_url_of_one_file(api_client) -> tuple[set[str], str]:
    """The same stored picture as an avatar, in the image list and as a course thumbnail."""
    user = UserFactory.create()
    image = ImageFactory.create(owner=user)
    name = image.file.name
    assert name is not None
    UserAvatar.objects.create(user=user, image=image)
    course = CourseFactory.create(tutor=user, is_published=True)
    Course.objects.filter(pk=course.pk).update(thumbnail=name)
    EnrollmentFactory(user=user, course=course)
    client = client_for(user)
    login = api_client.post("/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    urls = [
        login.json()["user"]["avatar"]["url"],
        client.get("/api/users/me/").json()["avatar"]["url"],
        client.get("/api/users/me/").json()["avatar"]["url"],  # from the cache
        client.get("/api/images/").json()["results"][0]["url"],
        client.get(f"/api/courses/{course.pk}/").json()["thumbnail"],
        client.get("/api/courses/").json()["results"][0]["thumbnail"],
        client.get("/api/me/enrollments/").json()["results"][0]["course"]["thumbnail"],
    ]
    assert len(urls) == 7
    return set(urls), name


@pytest.mark.django_db
def test_the_avatar_the_image_list_and_a_thumbnail_agree_on_public_base_url(api_client, settings):
    settings.PUBLIC_BASE_URL = "https://api.example.com"
    urls, name = every_url_of_one_file(api_client)
    assert urls == {f"https://api.example.com/media/{name}"}


@pytest.mark.django_db
def test_a_storage_that_gives_absolute_urls_is_followed_everywhere(api_client, settings):
    settings.MEDIA_URL = "https://cdn.example.com/media/"
    urls, name = every_url_of_one_file(api_client)
    assert urls == {f"https://cdn.example.com/media/{name}"}


@pytest.mark.django_db
def test_without_a_public_base_url_requests_give_their_own_host(settings):
    settings.PUBLIC_BASE_URL = ""
    user = UserFactory()
    image = ImageFactory(owner=user)
    course = CourseFactory(tutor=user, is_published=True)
    Course.objects.filter(pk=course.pk).update(thumbnail=image.file.name)
    client = client_for(user)
    url = f"http://api.internal:8000/media/{image.file.name}"
    settings.ALLOWED_HOSTS = ["api.internal"]
    headers = {"HTTP_HOST": "api.internal:8000"}
    assert client.get("/api/images/", **headers).json()["results"][0]["url"] == url
    assert client.get(f"/api/courses/{course.pk}/", **headers).json()["thumbnail"] == url


@pytest.mark.django_db
def test_an_empty_thumbnail_is_null(api_client):
    course = CourseFactory(is_published=True)
    assert api_client.get(f"/api/courses/{course.pk}/").json()["thumbnail"] is None

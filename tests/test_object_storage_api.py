"""The API with uploads on the object store (a real SeaweedFS, the object_store fixture): pictures
at public URLs on the store, assignment files downloaded through presigned URLs; and, with the
store stopped or frozen, uploads answered 503 `storage_unavailable` within seconds, nothing
half-written."""

import time
from pathlib import Path

import pytest
import requests
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory, UserFactory
from core.errors import STORAGE_RETRY_AFTER_SECONDS
from core.testing import assert_error_envelope
from courses.models import Submission, TopicType
from courses.tests.factories import EnrollmentFactory, TopicFactory
from videos.models import Image
from videos.tests.images import encode, picture, post_image

REPORT = b"%PDF-1.4\n% report\n" + bytes(range(256)) * 8
# Seconds an upload may take to fail while the store is away: a few, never gunicorn's timeout.
FAILS_WITHIN = 5.0

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(settings, object_store, tmp_path):
    settings.STORAGES = object_store.storages()
    settings.MEDIA_ROOT = str(tmp_path / "media")  # must stay empty
    return object_store


@pytest.fixture
def assignment(db):
    learner = UserFactory()
    topic = TopicFactory(type=TopicType.ASSIGNMENT, body="Write a report.")
    EnrollmentFactory(user=learner, course=topic.lecture.course)
    return topic, learner


def submit(client, topic, content: bytes = REPORT):
    upload = SimpleUploadedFile("보고서 1.pdf", content, content_type="application/pdf")
    return client.post(f"/api/topics/{topic.pk}/submissions/", {"file": upload}, format="multipart")


def keys(store, bucket):
    """The bucket's keys under this test's prefix (the same in both storages)."""
    return store.keys(bucket, storages["default"].location)


def test_a_picture_goes_to_the_public_bucket_and_its_url_serves_it(store, settings):
    response = post_image(client_for(TutorFactory()), encode(picture(), "PNG"))
    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["id"])
    url = response.json()["url"]
    assert url.startswith(f"{store.endpoint_url}/{store.public_bucket}/")
    fetched = requests.get(url, timeout=5)  # no credentials: a browser, nginx or a CDN
    assert fetched.status_code == 200
    assert fetched.content[:4] == b"RIFF" and len(fetched.content) == image.size
    assert keys(store, store.public_bucket) == [f"{storages['default'].location}/{image.file}"]
    assert not Path(settings.MEDIA_ROOT).exists()


def test_an_assignment_file_is_protected_and_downloaded_through_a_presigned_url(store, assignment):
    topic, learner = assignment
    response = submit(client_for(learner), topic)
    assert response.status_code == 201, response.content
    submission = Submission.objects.get()
    assert keys(store, store.protected_bucket) == [
        f"{storages['protected'].location}/{submission.file.name}"
    ]
    download = client_for(learner).get(response.json()["file"])
    assert download.status_code == 302
    assert download["Cache-Control"] == "private, no-store"
    fetched = requests.get(download["Location"], headers={"Range": "bytes=9-16"}, timeout=5)
    assert (fetched.status_code, fetched.content) == (206, REPORT[9:17])
    assert fetched.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C" in fetched.headers["Content-Disposition"]
    stranger = client_for(UserFactory()).get(response.json()["file"])
    assert_error_envelope(stranger, 404, "not_found")
    assert "Location" not in stranger


@pytest.fixture
def store_stopped(store):
    store.stop()
    try:
        yield store
    finally:
        if not store.running:
            store.start()


def test_a_picture_upload_while_the_store_is_down_is_503_and_stores_nothing(store_stopped):
    started = time.monotonic()
    response = post_image(client_for(TutorFactory()), encode(picture(), "PNG"))
    assert time.monotonic() - started < FAILS_WITHIN
    assert_error_envelope(response, 503, "storage_unavailable")
    assert response["Retry-After"] == str(STORAGE_RETRY_AFTER_SECONDS)
    assert Image.objects.count() == 0


def test_an_assignment_upload_while_the_store_is_down_is_503_and_leaves_no_row(
    store_stopped, assignment
):
    topic, learner = assignment
    response = submit(client_for(learner), topic)
    assert_error_envelope(response, 503, "storage_unavailable")
    assert Submission.objects.count() == 0
    assert not learner.topic_progress.exists()


def test_a_frozen_store_fails_an_upload_within_the_timeouts(settings, object_store):
    """SIGSTOP: the kernel accepts connections that are never answered, so only the read timeout
    ends the wait (S3_READ_TIMEOUT x S3_MAX_ATTEMPTS per call)."""
    settings.STORAGES = object_store.storages(read_timeout=0.5, max_attempts=2)
    object_store.freeze()
    try:
        started = time.monotonic()
        response = post_image(client_for(TutorFactory()), encode(picture(), "PNG"))
        elapsed = time.monotonic() - started
    finally:
        object_store.thaw()
    assert_error_envelope(response, 503, "storage_unavailable")
    assert 0.9 < elapsed < FAILS_WITHIN, elapsed
    assert Image.objects.count() == 0


def test_uploads_work_again_once_the_store_is_back(store_stopped):
    store_stopped.start()
    response = post_image(client_for(TutorFactory()), encode(picture(), "PNG"))
    assert response.status_code == 201, response.content

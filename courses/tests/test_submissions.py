"""Submitting an assignment (POST /api/topics/{id}/submissions/): text and/or a checked file,
resubmission until graded; status, body, the database and the stored files after."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from courses.models import Submission, SubmissionStatus, TopicProgress, TopicType
from courses.tests.factories import (
    TopicFactory,
)
from courses.tests.helpers import (
    SUBMISSION_KEYS,
    completed,
    concurrently,
    enrol,
    stored_files,
    submission_storage,
    submissions_url,
)

pytestmark = pytest.mark.usefixtures("files_in_tmp")


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, "JPEG")
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "print('hi')\n")
    return buffer.getvalue()


NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
GOOD_FILES = {
    "report.pdf": b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
    "project.zip": zip_bytes(),
    "notes.txt": "과제 제출합니다.\n".encode(),
    "README.md": b"# Answer\n\nDone.\n",
    "solution.py": b"print('hello')\n",
    "analysis.ipynb": NOTEBOOK,
    "diagram.png": png_bytes(),
    "photo.jpg": jpeg_bytes(),
    "photo2.JPEG": jpeg_bytes(),
}


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.django_db
class TestSubmit:
    def test_text_as_json_is_201_stored_and_completes_the_topic(
        self, auth_client, user, assignment
    ):
        response = auth_client.post(submissions_url(assignment.pk), {"text": "My answer."})

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == SUBMISSION_KEYS
        assert (body["text"], body["file"], body["status"], body["grade"]) == (
            "My answer.",
            None,
            "submitted",
            None,
        )
        assert body["user"] == {"id": user.pk, "name": user.name}
        submission = Submission.objects.get()
        assert (submission.user, submission.topic, submission.text) == (
            user,
            assignment,
            "My answer.",
        )
        assert submission.status == SubmissionStatus.SUBMITTED
        assert completed(user, assignment)

    @pytest.mark.parametrize("name", list(GOOD_FILES))
    def test_each_allowed_file_type_is_201_and_stored(
        self, auth_client, user, assignment, settings, name
    ):
        response = auth_client.post(
            submissions_url(assignment.pk),
            {"file": upload(name, GOOD_FILES[name])},
            format="multipart",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["text"] == ""
        submission = Submission.objects.get()
        assert body["file"] == f"http://testserver/api/submissions/{submission.pk}/file/"
        assert submission.file.name.endswith(
            "/" + name.rsplit(".", 1)[0] + "." + name.rsplit(".", 1)[1].lower()
        )
        with submission_storage().open(submission.file.name) as stored:
            assert stored.read() == GOOD_FILES[name]
        assert stored_files(settings) == [submission.file.name]
        assert not (Path(settings.MEDIA_ROOT) / submission.file.name).exists()
        assert completed(user, assignment)

    def test_text_and_file_together_are_stored(self, auth_client, assignment):
        response = auth_client.post(
            submissions_url(assignment.pk),
            {"text": "See attached.", "file": upload("a.txt", b"attached")},
            format="multipart",
        )
        assert response.status_code == 201
        submission = Submission.objects.get()
        assert submission.text == "See attached."
        assert submission.file.name.endswith("/a.txt")

    def test_resubmission_replaces_text_and_file_and_removes_the_old_file(
        self, auth_client, assignment, settings
    ):
        first = auth_client.post(
            submissions_url(assignment.pk),
            {"text": "v1", "file": upload("v1.txt", b"one")},
            format="multipart",
        )
        old_file = Submission.objects.get().file.name

        again = auth_client.post(submissions_url(assignment.pk), {"text": "v2"})

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert (again.json()["text"], again.json()["file"]) == ("v2", None)
        submission = Submission.objects.get()
        assert (submission.text, submission.file.name) == ("v2", "")
        assert not submission_storage().exists(old_file)
        assert stored_files(settings) == []

    def test_resubmission_after_grading_is_409_already_graded_and_changes_nothing(
        self, auth_client, user, assignment
    ):
        Submission.objects.create(
            user=user, topic=assignment, text="final", status="graded", grade=90
        )

        response = auth_client.post(submissions_url(assignment.pk), {"text": "late change"})

        assert_error_envelope(response, 409, "already_graded")
        submission = Submission.objects.get()
        assert (submission.text, submission.grade, submission.status) == ("final", 90, "graded")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "non_field_errors"),
            ({"text": ""}, "non_field_errors"),
            ({"text": "   "}, "non_field_errors"),
            ({"text": 123}, "text"),
            ({"text": ["a"]}, "text"),
            ({"text": None}, "text"),
            ({"text": "x" * 50001}, "text"),
            ({"file": "not-a-file.pdf"}, "file"),
        ],
    )
    def test_bad_json_is_400_validation_error_and_nothing_is_written(
        self, auth_client, user, assignment, settings, body, field
    ):
        response = auth_client.post(submissions_url(assignment.pk), body)

        error = assert_error_envelope(response, 400, "validation_error")
        assert list(error["fields"]) == [field]
        assert not Submission.objects.exists()
        assert not completed(user, assignment)

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("virus.exe", b"MZ\x90\x00"),
            ("renamed.pdf", b"MZ\x90\x00 this is a program"),
            ("report", b"%PDF-1.4\n"),
            (".pdf", b"%PDF-1.4\n"),
            ("photo.png", jpeg_bytes()),
            ("truncated.png", b"\x89PNG\r\n\x1a\n"),
            ("broken.jpg", b"\xff\xd8\xff\xe0not really a jpeg"),
            ("binary.txt", b"text\x00with a NUL"),
            ("latin1.py", "caf\xe9".encode("latin-1")),
            ("notebook.ipynb", b"{not json"),
            ("notebook2.ipynb", b'["a list"]'),
            ("archive.zip", b"Rar!\x1a\x07\x00"),
        ],
    )
    def test_disallowed_or_disguised_files_are_400_invalid_file_and_nothing_is_written(
        self, auth_client, user, assignment, settings, name, content
    ):
        response = auth_client.post(
            submissions_url(assignment.pk), {"file": upload(name, content)}, format="multipart"
        )

        error = assert_error_envelope(response, 400, "invalid_file")
        assert list(error["fields"]) == ["file"]
        assert not Submission.objects.exists()
        assert stored_files(settings) == []
        assert not completed(user, assignment)

    def test_an_empty_file_is_400(self, auth_client, assignment, settings):
        response = auth_client.post(
            submissions_url(assignment.pk), {"file": upload("a.txt", b"")}, format="multipart"
        )
        assert "file" in assert_error_envelope(response, 400, "validation_error")["fields"]
        assert not Submission.objects.exists()
        assert stored_files(settings) == []

    @pytest.mark.parametrize(("size", "status_code"), [(1024, 201), (1025, 413)])
    def test_file_size_limit_comes_from_the_setting_and_oversize_is_413_file_too_large(
        self, auth_client, assignment, settings, size, status_code
    ):
        settings.SUBMISSION_MAX_FILE_BYTES = 1024

        response = auth_client.post(
            submissions_url(assignment.pk),
            {"file": upload("big.txt", b"a" * size)},
            format="multipart",
        )

        assert response.status_code == status_code
        if status_code == 413:
            error = assert_error_envelope(response, 413, "file_too_large")
            assert list(error["fields"]) == ["file"]
        assert Submission.objects.count() == (status_code == 201)
        assert len(stored_files(settings)) == (status_code == 201)

    def test_a_resubmission_with_a_bad_file_keeps_the_previous_one(
        self, auth_client, assignment, settings
    ):
        auth_client.post(
            submissions_url(assignment.pk),
            {"text": "v1", "file": upload("v1.txt", b"one")},
            format="multipart",
        )
        before = stored_files(settings)

        response = auth_client.post(
            submissions_url(assignment.pk),
            {"text": "v2", "file": upload("v2.pdf", b"not a pdf")},
            format="multipart",
        )

        assert_error_envelope(response, 400, "invalid_file")
        assert Submission.objects.get().text == "v1"
        assert stored_files(settings) == before

    def test_allowed_extensions_setting_narrows_the_types(self, auth_client, assignment, settings):
        settings.SUBMISSION_ALLOWED_EXTENSIONS = ["pdf"]
        response = auth_client.post(
            submissions_url(assignment.pk), {"file": upload("a.txt", b"hi")}, format="multipart"
        )
        error = assert_error_envelope(response, 400, "invalid_file")
        assert error["fields"]["file"] == ["Allowed file types: pdf."]
        assert not Submission.objects.exists()

    @pytest.mark.parametrize("topic_type", [TopicType.ARTICLE, TopicType.VIDEO, TopicType.QUIZ])
    def test_submitting_to_a_non_assignment_is_400_not_an_assignment(
        self, auth_client, user, topic_type
    ):
        topic = TopicFactory(type=topic_type)
        enrol(user, topic)
        response = auth_client.post(submissions_url(topic.pk), {"text": "hi"})
        assert_error_envelope(response, 400, "not_an_assignment")
        assert not Submission.objects.exists()

    def test_not_enrolled_is_403_unknown_is_404_anonymous_is_401(self, auth_client, api_client):
        topic = TopicFactory(type=TopicType.ASSIGNMENT)
        body = {"text": "hi"}
        assert_error_envelope(
            auth_client.post(submissions_url(topic.pk), body), 403, "not_entitled"
        )
        assert_error_envelope(auth_client.get(submissions_url(topic.pk)), 403, "not_entitled")
        assert_error_envelope(auth_client.post(submissions_url(999999), body), 404, "not_found")
        assert_error_envelope(api_client.post(submissions_url(topic.pk), body), 401)
        assert not Submission.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_submissions_store_one_row():
    learner = UserFactory()
    topic = TopicFactory(type=TopicType.ASSIGNMENT)
    enrol(learner, topic)

    outcomes = concurrently(
        10,
        client_for(learner).token_pair.access,
        lambda c: c.post(submissions_url(topic.pk), {"text": "answer"}),
    )

    statuses = sorted(status for status, _code in outcomes)
    assert statuses == [200] * 9 + [201], outcomes
    assert Submission.objects.filter(user=learner, topic=topic).count() == 1
    assert TopicProgress.objects.filter(user=learner, topic=topic).count() == 1

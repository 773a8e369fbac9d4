"""Assignment files: stored outside the public media root and downloaded only by the learner who
submitted, the course's tutor and staff; everyone else learns nothing (404)."""

from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.models import Submission, TopicType
from courses.tests.factories import EnrollmentFactory, TopicFactory

REPORT = b"%PDF-1.4\n% my report\n" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    for attribute in ("base_location", "location"):
        monkeypatch.setattr(storage(), attribute, str(tmp_path / "protected"))


def storage():
    return Submission._meta.get_field("file").storage


@pytest.fixture
def learner(db):
    return UserFactory()


@pytest.fixture
def assignment(learner):
    topic = TopicFactory(type=TopicType.ASSIGNMENT, body="Write a report.")
    EnrollmentFactory(user=learner, course=topic.lecture.course)
    return topic


def submit(client, topic, name: str = "report.pdf", content: bytes = REPORT):
    response = client.post(
        f"/api/topics/{topic.pk}/submissions/",
        {"file": SimpleUploadedFile(name, content, content_type="application/octet-stream")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def file_url(submission_id: int) -> str:
    return f"/api/submissions/{submission_id}/file/"


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
class TestDownload:
    def test_the_output_names_the_download_and_the_file_is_outside_media_root(
        self, learner, assignment, settings
    ):
        body = submit(client_for(learner), assignment)
        submission = Submission.objects.get()
        assert body["file"] == f"http://testserver{file_url(submission.pk)}"
        stored = Path(storage().location) / submission.file.name
        assert stored.read_bytes() == REPORT
        assert not stored.is_relative_to(settings.MEDIA_ROOT)
        assert not list(Path(settings.MEDIA_ROOT).rglob("*.pdf"))

    def test_the_learner_downloads_it_as_an_attachment(self, learner, assignment):
        client = client_for(learner)
        body = submit(client, assignment)
        response = client.get(body["file"])
        assert response.status_code == 200
        assert body_of(response) == REPORT
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
        assert response["Content-Disposition"] == (
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        )

    @pytest.mark.parametrize("who", ["tutor", "staff"])
    def test_the_courses_tutor_and_staff_download_it(self, learner, assignment, who):
        submit(client_for(learner), assignment)
        reader = assignment.lecture.course.tutor if who == "tutor" else StaffFactory()
        response = client_for(reader).get(file_url(Submission.objects.get().pk))
        assert response.status_code == 200
        assert body_of(response) == REPORT

    def test_the_learner_keeps_access_to_their_own_work_after_the_enrollment_ends(
        self, learner, assignment
    ):
        client = client_for(learner)
        body = submit(client, assignment)
        assignment.lecture.course.enrollments.all().delete()
        assert body_of(client.get(body["file"])) == REPORT

    @pytest.mark.parametrize("who", ["classmate", "other-tutor", "stranger"])
    def test_anyone_else_gets_404_as_for_an_unknown_id(self, learner, assignment, who):
        submit(client_for(learner), assignment)
        submission = Submission.objects.get()
        if who == "classmate":  # enrolled in the same course, submitted their own work
            intruder = UserFactory()
            EnrollmentFactory(user=intruder, course=assignment.lecture.course)
            submit(client_for(intruder), assignment, name="mine.txt", content=b"mine")
        else:
            intruder = TutorFactory() if who == "other-tutor" else UserFactory()
        client = client_for(intruder)
        refused = assert_error_envelope(client.get(file_url(submission.pk)), 404, "not_found")
        unknown = assert_error_envelope(client.get(file_url(10**6)), 404, "not_found")
        assert refused == unknown

    def test_anonymous_is_401(self, learner, assignment, api_client):
        submit(client_for(learner), assignment)
        response = api_client.get(file_url(Submission.objects.get().pk))
        assert_error_envelope(response, 401)

    def test_guessing_the_old_media_url_finds_nothing(self, learner, assignment, api_client):
        submit(client_for(learner), assignment)
        name = Submission.objects.get().file.name
        for client in (api_client, client_for(learner)):
            for path in (f"/media/{name}", f"/protected-videos/{name}", f"/{name}"):
                assert client.get(path).status_code == 404

    def test_a_submission_without_a_file_or_an_out_of_range_id_is_404(self, learner, assignment):
        client = client_for(learner)
        client.post(f"/api/topics/{assignment.pk}/submissions/", {"text": "Only words."})
        submission = Submission.objects.get()
        assert (
            client.get(f"/api/topics/{assignment.pk}/submissions/").json()["results"][0]["file"]
            is None
        )
        assert_error_envelope(client.get(file_url(submission.pk)), 404, "not_found")
        assert_error_envelope(client.get(file_url(2**63)), 404)
        assert_error_envelope(client.get(file_url(10**30)), 404)

    def test_a_file_missing_from_storage_is_404_not_500(self, learner, assignment):
        client = client_for(learner)
        body = submit(client, assignment)
        storage().delete(Submission.objects.get().file.name)
        assert_error_envelope(client.get(body["file"]), 404, "not_found")

    @pytest.mark.parametrize(
        ("header", "status", "content"),
        [
            ("bytes=0-7", 206, REPORT[:8]),
            ("bytes=-4", 206, REPORT[-4:]),
            ("bytes=0-" + "9" * 4400, 206, REPORT),
            ("bytes=" + "9" * 4400 + "-", 416, None),
            ("bytes=-" + "9" * 4400, 206, REPORT),
            ("bytes=²-", 200, REPORT),
        ],
        ids=["first-8", "suffix", "huge-end", "huge-start", "huge-suffix", "superscript-digit"],
    )
    def test_ranges_resume_a_download_and_hostile_ones_are_never_a_500(
        self, learner, assignment, header, status, content
    ):
        client = client_for(learner)
        body = submit(client, assignment)
        response = client.get(body["file"], HTTP_RANGE=header)
        if status == 416:
            assert_error_envelope(response, 416, "range_not_satisfiable")
            assert "Content-Disposition" not in response
            return
        assert response.status_code == status
        assert body_of(response) == content
        assert response["Content-Disposition"].startswith("attachment;")

    def test_behind_nginx_the_bytes_come_from_the_internal_location_under_an_encoded_name(
        self, learner, assignment, settings
    ):
        settings.PROTECTED_ACCEL_REDIRECT_PREFIX = "/protected-videos/"
        client = client_for(learner)
        body = submit(client, assignment, name="보고서 1.pdf")
        name = Submission.objects.get().file.name
        response = client.get(body["file"])
        assert response.status_code == 200
        assert response.content == b""
        assert response["X-Accel-Redirect"] == "/protected-videos/" + quote(name)
        assert response["X-Accel-Redirect"].isascii()
        assert Path(name).name == "보고서_1.pdf"
        assert response["Content-Disposition"] == (
            "attachment; filename=\"1.pdf\"; filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C_1.pdf"
        )

    def test_a_public_base_url_names_the_download(self, learner, assignment, settings):
        settings.PUBLIC_BASE_URL = "https://api.example.com"
        body = submit(client_for(learner), assignment)
        assert body["file"] == f"https://api.example.com{file_url(Submission.objects.get().pk)}"

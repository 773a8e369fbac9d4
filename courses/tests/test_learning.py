"""Quiz attempts, assignment submissions and grading: status, body and the database after."""

import io
import json
import threading
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.exceptions import ApplicationError
from core.testing import CommittingAPIClient, assert_error_envelope, on_own_connection
from courses.models import QuizAttempt, Submission, SubmissionStatus, TopicProgress, TopicType
from courses.services.learning import _attempt_store, quiz_attempt_create
from courses.tests.factories import (
    ChoiceFactory,
    CourseFactory,
    EnrollmentFactory,
    QuestionFactory,
    TopicFactory,
    quiz_topic,
)

ATTEMPT_KEYS = {
    "id",
    "topic",
    "number",
    "score",
    "correct",
    "total",
    "passed",
    "pass_percent",
    "attempts_left",
    "key_revealed",
    "results",
    "created_at",
}
RESULT_KEYS = {"question", "choice", "correct", "correct_choices", "explanation"}
SUBMISSION_KEYS = {
    "id",
    "topic",
    "user",
    "text",
    "file",
    "status",
    "grade",
    "feedback",
    "graded_at",
    "created_at",
    "updated_at",
}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # Assignment files live in the protected storage (outside MEDIA_ROOT): a fresh root per test.
    for attribute in ("base_location", "location"):
        monkeypatch.setattr(submission_storage(), attribute, str(tmp_path / "protected"))


def submission_storage():
    return Submission._meta.get_field("file").storage


def stored_files(settings) -> list[str]:
    """Every stored file, public or protected: only an accepted submission leaves one."""
    roots = [Path(settings.MEDIA_ROOT), Path(submission_storage().location)]
    return sorted(
        str(p.relative_to(root))
        for root in roots
        if root.exists()
        for p in root.rglob("*")
        if p.is_file()
    )


def enrol(user, topic):
    EnrollmentFactory(user=user, course=topic.lecture.course)


def attempts_url(topic_id) -> str:
    return f"/api/topics/{topic_id}/quiz-attempts/"


def submissions_url(topic_id) -> str:
    return f"/api/topics/{topic_id}/submissions/"


def answers(topic, right: int | None = None) -> dict[str, int]:
    """An answer to every question: the first `right` correct (all when None), the rest wrong."""
    questions = list(topic.questions.order_by("position"))
    right = len(questions) if right is None else right
    body = {}
    for index, question in enumerate(questions):
        choices = list(question.choices.order_by("position"))
        pick = next(c for c in choices if c.is_correct is (index < right))
        body[str(question.pk)] = pick.pk
    return body


def completed(user, topic) -> bool:
    return TopicProgress.objects.filter(user=user, topic=topic, completed_at__isnull=False).exists()


# --- Quiz attempts -------------------------------------------------------------------------------


@pytest.fixture
def quiz(user):
    topic = quiz_topic(questions=3, choices=3)
    enrol(user, topic)
    return topic


@pytest.mark.django_db
class TestQuizAttempts:
    def test_all_correct_is_201_scored_100_passed_stored_and_completes_the_topic(
        self, auth_client, user, quiz
    ):
        first = quiz.questions.order_by("position").first()
        first.explanation = "Because the first choice is right."
        first.save()
        sent = answers(quiz)

        response = auth_client.post(attempts_url(quiz.pk), {"answers": sent})

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == ATTEMPT_KEYS
        assert (body["number"], body["score"], body["correct"], body["total"]) == (1, 100.0, 3, 3)
        assert body["passed"] is True
        assert body["attempts_left"] == 2
        assert body["pass_percent"] == 60
        assert [r["question"] for r in body["results"]] == [int(k) for k in sent]
        result = body["results"][0]
        assert set(result) == RESULT_KEYS
        assert result["correct"] is True
        assert result["correct_choices"] == [sent[str(first.pk)]]
        assert result["explanation"] == "Because the first choice is right."
        attempt = QuizAttempt.objects.get()
        assert (attempt.user, attempt.topic, attempt.number, attempt.passed) == (
            user,
            quiz,
            1,
            True,
        )
        assert attempt.answers == sent
        assert (attempt.correct, attempt.total) == (3, 3)
        assert completed(user, quiz)

    @pytest.mark.parametrize(
        ("right", "score", "passed"),
        [(0, 0.0, False), (1, 33.3, False), (2, 66.7, True), (3, 100.0, True)],
    )
    def test_score_is_graded_on_the_server_and_only_a_pass_completes_the_topic(
        self, auth_client, user, quiz, right, score, passed
    ):
        response = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, right)})

        assert response.status_code == 201
        body = response.json()
        assert (body["score"], body["correct"], body["passed"]) == (score, right, passed)
        assert [r["correct"] for r in body["results"]] == [i < right for i in range(3)]
        assert QuizAttempt.objects.get().passed is passed
        assert completed(user, quiz) is passed

    @pytest.mark.parametrize(("pass_percent", "passed"), [(50, True), (51, False)])
    def test_pass_mark_is_inclusive_and_comes_from_the_setting(
        self, auth_client, user, settings, pass_percent, passed
    ):
        settings.QUIZ_PASS_PERCENT = pass_percent
        topic = quiz_topic(questions=2)
        enrol(user, topic)

        body = auth_client.post(attempts_url(topic.pk), {"answers": answers(topic, 1)}).json()

        assert (body["score"], body["passed"], body["pass_percent"]) == (50.0, passed, pass_percent)
        assert completed(user, topic) is passed

    def test_any_of_several_correct_choices_counts_and_all_are_revealed(self, auth_client, user):
        question = QuestionFactory()
        wrong = ChoiceFactory(question=question, position=0)
        right = [ChoiceFactory(question=question, position=p, is_correct=True) for p in (1, 2)]
        enrol(user, question.topic)

        sent = {"answers": {str(question.pk): right[1].pk}}
        body = auth_client.post(attempts_url(question.topic_id), sent).json()

        assert body["results"][0]["correct"] is True
        assert body["results"][0]["correct_choices"] == [right[0].pk, right[1].pk]
        again = {"answers": {str(question.pk): wrong.pk}}
        assert auth_client.post(attempts_url(question.topic_id), again).json()["correct"] == 0

    def test_attempts_count_up_to_the_setting_then_409_attempts_exhausted(
        self, auth_client, user, quiz, settings
    ):
        settings.QUIZ_MAX_ATTEMPTS = 3
        bodies = [
            auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 0)}).json()
            for _ in range(3)
        ]
        assert [(b["number"], b["attempts_left"]) for b in bodies] == [(1, 2), (2, 1), (3, 0)]

        response = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz)})

        assert_error_envelope(response, 409, "attempts_exhausted")
        assert sorted(QuizAttempt.objects.values_list("number", flat=True)) == [1, 2, 3]
        assert not completed(user, quiz)

    def test_attempts_are_counted_per_user_and_per_quiz(self, auth_client, user, quiz, settings):
        settings.QUIZ_MAX_ATTEMPTS = 1
        other_quiz = quiz_topic(lecture=quiz.lecture)
        classmate = UserFactory()
        enrol(classmate, quiz)
        assert client_for(classmate).post(attempts_url(quiz.pk), {"answers": answers(quiz)})
        assert (
            auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz)}).status_code == 201
        )

        response = auth_client.post(attempts_url(other_quiz.pk), {"answers": answers(other_quiz)})

        assert response.status_code == 201
        assert response.json()["number"] == 1
        assert QuizAttempt.objects.filter(user=user).count() == 2

    def test_zero_max_attempts_means_unlimited(self, auth_client, quiz, settings):
        settings.QUIZ_MAX_ATTEMPTS = 0
        for number in range(1, 6):
            body = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz)}).json()
            assert (body["number"], body["attempts_left"]) == (number, None)
        assert QuizAttempt.objects.count() == 5

    @pytest.mark.parametrize("questions", [2, 30])
    def test_grading_runs_a_fixed_number_of_queries_whatever_the_quiz_size(
        self, auth_client, user, django_assert_max_num_queries, questions
    ):
        topic = quiz_topic(questions=questions)
        enrol(user, topic)
        body = {"answers": answers(topic)}

        # Authentication (3) + topic and entitlement (2) + questions and choices (2) + last number
        # + the attempt (3 with savepoints) + completing the topic (7) + the outer savepoint (2).
        with django_assert_max_num_queries(20):
            response = auth_client.post(attempts_url(topic.pk), body)

        assert response.json()["total"] == questions
        assert QuizAttempt.objects.get().correct == questions

    def test_same_idempotency_key_replays_without_spending_an_attempt(self, auth_client, quiz):
        body = {"answers": answers(quiz)}
        first = auth_client.post(attempts_url(quiz.pk), body, HTTP_IDEMPOTENCY_KEY="k-1")
        again = auth_client.post(attempts_url(quiz.pk), body, HTTP_IDEMPOTENCY_KEY="k-1")

        assert (first.status_code, again.status_code) == (201, 201)
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert QuizAttempt.objects.count() == 1

    @pytest.mark.parametrize(
        "make_body",
        [
            pytest.param(lambda q, o: {}, id="no-answers"),
            pytest.param(lambda q, o: {"answers": None}, id="null"),
            pytest.param(lambda q, o: {"answers": [1, 2, 3]}, id="list"),
            pytest.param(lambda q, o: {"answers": "1:2"}, id="string"),
            pytest.param(lambda q, o: {"answers": {}}, id="empty"),
            pytest.param(
                lambda q, o: {"answers": dict(list(answers(q).items())[:2])}, id="missing"
            ),
            pytest.param(
                lambda q, o: {"answers": {**answers(q), **answers(o)}}, id="extra-question"
            ),
            pytest.param(
                lambda q, o: {"answers": {**answers(q), "999999": 1}}, id="unknown-question"
            ),
            pytest.param(
                lambda q, o: {"answers": {k: next(iter(answers(o).values())) for k in answers(q)}},
                id="choice-of-another-question",
            ),
            pytest.param(
                lambda q, o: {"answers": {k: v + 1000 for k, v in answers(q).items()}},
                id="unknown-choice",
            ),
            pytest.param(
                lambda q, o: {"answers": {k: str(v) for k, v in answers(q).items()}},
                id="choice-as-string",
            ),
            pytest.param(
                lambda q, o: {"answers": {k: True for k in answers(q)}}, id="choice-as-bool"
            ),
            pytest.param(
                lambda q, o: {"answers": {k: [v] for k, v in answers(q).items()}}, id="choice-list"
            ),
            pytest.param(
                lambda q, o: {"answers": {k: 1.5 for k in answers(q)}}, id="choice-as-float"
            ),
            pytest.param(
                lambda q, o: {"answers": {f"0{k}": v for k, v in answers(q).items()}},
                id="question-id-with-leading-zero",
            ),
            pytest.param(
                lambda q, o: {"answers": {**answers(q), "abc": 1}}, id="question-id-not-a-number"
            ),
        ],
    )
    def test_bad_answers_are_400_validation_error_on_answers_and_nothing_is_written(
        self, auth_client, user, quiz, make_body
    ):
        other = quiz_topic(questions=1)

        response = auth_client.post(attempts_url(quiz.pk), make_body(quiz, other))

        error = assert_error_envelope(response, 400, "validation_error")
        assert list(error["fields"]) == ["answers"]
        assert not QuizAttempt.objects.exists()
        assert not completed(user, quiz)

    def test_the_400_names_each_problem(self, auth_client, quiz):
        q1, q2, q3 = quiz.questions.order_by("position")
        other_choice = q2.choices.first()
        body = {"answers": {str(q1.pk): other_choice.pk, str(q2.pk): other_choice.pk, "999999": 1}}

        messages = assert_error_envelope(auth_client.post(attempts_url(quiz.pk), body), 400)[
            "fields"
        ]["answers"]

        assert messages == [
            f"Answer every question; missing: {q3.pk}.",
            "Not questions of this quiz: 999999.",
            f"Choice {other_choice.pk} is not an option of question {q1.pk}.",
        ]

    @pytest.mark.parametrize(
        ("language", "bad_key", "bad_choice"),
        [
            ("en", "“abc” is not a question id.", "The answer to question {} must be a choice id"),
            ("ko", "“abc”는 문항 id가 아닙니다.", "{}번 문항의 답은 선택지 id(정수)여야 합니다."),
        ],
    )
    def test_a_malformed_answer_is_named_in_the_message(
        self, auth_client, quiz, language, bad_key, bad_choice
    ):
        """The messages used to arrive with their `%(question)s` placeholders unfilled."""
        question = str(quiz.questions.first().pk)

        response = auth_client.post(
            attempts_url(quiz.pk), {"answers": {"abc": 1}}, HTTP_ACCEPT_LANGUAGE=language
        )
        choice_response = auth_client.post(
            attempts_url(quiz.pk), {"answers": {question: "x"}}, HTTP_ACCEPT_LANGUAGE=language
        )

        assert assert_error_envelope(response, 400)["fields"] == {"answers": [bad_key]}
        message = assert_error_envelope(choice_response, 400)["fields"]["answers"][0]
        assert message.startswith(bad_choice.format(question))
        assert "%(" not in message

    @pytest.mark.parametrize(
        "topic_type", [TopicType.ARTICLE, TopicType.VIDEO, TopicType.ASSIGNMENT]
    )
    def test_answers_for_a_non_quiz_topic_are_400_not_a_quiz(
        self, auth_client, user, quiz, topic_type
    ):
        topic = TopicFactory(lecture=quiz.lecture, type=topic_type)

        response = auth_client.post(attempts_url(topic.pk), {"answers": answers(quiz)})

        assert_error_envelope(response, 400, "not_a_quiz")
        assert not QuizAttempt.objects.exists()

    def test_quiz_without_questions_is_409_quiz_empty(self, auth_client, user):
        topic = TopicFactory(type=TopicType.QUIZ)
        enrol(user, topic)

        response = auth_client.post(attempts_url(topic.pk), {"answers": {}})

        assert_error_envelope(response, 409, "quiz_empty")
        assert not QuizAttempt.objects.exists()

    def test_not_enrolled_is_403_not_entitled(self, auth_client, user):
        topic = quiz_topic()
        response = auth_client.post(attempts_url(topic.pk), {"answers": answers(topic)})
        assert_error_envelope(response, 403, "not_entitled")
        assert not QuizAttempt.objects.exists()

    def test_expired_enrollment_is_403_not_entitled(self, auth_client, user):
        topic = quiz_topic()
        now = timezone.now()
        EnrollmentFactory(
            user=user,
            course=topic.lecture.course,
            starts_at=now - timedelta(days=30),
            expires_at=now - timedelta(days=1),
        )
        response = auth_client.post(attempts_url(topic.pk), {"answers": answers(topic)})
        assert_error_envelope(response, 403, "not_entitled")
        assert not QuizAttempt.objects.exists()

    def test_a_preview_quiz_is_open_to_any_signed_in_user(self, auth_client, user):
        topic = quiz_topic(is_preview=True)
        response = auth_client.post(attempts_url(topic.pk), {"answers": answers(topic)})
        assert response.status_code == 201
        assert QuizAttempt.objects.filter(user=user, topic=topic).exists()

    def test_unknown_or_draft_topic_is_404_and_anonymous_is_401(self, auth_client, api_client):
        draft = quiz_topic(lecture__course__is_published=False)
        body = {"answers": answers(draft)}
        assert_error_envelope(auth_client.post(attempts_url(999999), body), 404, "not_found")
        assert_error_envelope(auth_client.post(attempts_url(draft.pk), body), 404, "not_found")
        assert_error_envelope(api_client.post(attempts_url(draft.pk), body), 401)
        assert not QuizAttempt.objects.exists()

    def test_studying_a_quiz_sends_no_answers_before_an_attempt(self, auth_client, quiz):
        question = quiz.questions.first()
        question.explanation = "The secret reasoning."
        question.save()

        response = auth_client.get(f"/api/topics/{quiz.pk}/")

        assert response.status_code == 200
        text = response.content.decode()
        assert "is_correct" not in text
        assert "The secret reasoning." not in text
        assert len(response.json()["questions"]) == 3


@pytest.mark.django_db
class TestQuizAttemptService:
    def test_a_number_taken_by_a_concurrent_attempt_moves_on_to_the_next(self, user):
        topic = quiz_topic(questions=1)
        fields = {"answers": {}, "correct": 0, "total": 1, "passed": False}
        QuizAttempt.objects.create(user=user, topic=topic, number=1, **fields)

        attempt = _attempt_store(user=user, topic=topic, number=1, limit=3, **fields)

        assert attempt.number == 2
        assert QuizAttempt.objects.count() == 2

    def test_a_taken_last_number_is_attempts_exhausted(self, user):
        topic = quiz_topic(questions=1)
        fields = {"answers": {}, "correct": 0, "total": 1, "passed": False}
        QuizAttempt.objects.create(user=user, topic=topic, number=3, **fields)

        with pytest.raises(ApplicationError) as caught:
            _attempt_store(user=user, topic=topic, number=3, limit=3, **fields)

        assert caught.value.code == "attempts_exhausted"
        assert QuizAttempt.objects.count() == 1

    def test_service_grades_without_the_api(self, user):
        topic = quiz_topic(questions=2)
        sent = {int(k): v for k, v in answers(topic, 1).items()}

        graded = quiz_attempt_create(user=user, topic=topic, answers=sent)

        assert (graded.attempt.correct, graded.attempt.total, graded.attempt.score) == (1, 2, 50.0)
        assert [r.correct for r in graded.results] == [True, False]


# --- Submissions ---------------------------------------------------------------------------------


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


@pytest.fixture
def assignment(user):
    topic = TopicFactory(type=TopicType.ASSIGNMENT, body="Write a report.")
    enrol(user, topic)
    return topic


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


@pytest.mark.django_db
class TestMySubmissions:
    def test_a_learner_sees_only_their_own_submission_for_the_topic(
        self, auth_client, user, assignment
    ):
        mine = Submission.objects.create(user=user, topic=assignment, text="mine")
        classmate = UserFactory()
        enrol(classmate, assignment)
        Submission.objects.create(user=classmate, topic=assignment, text="theirs")
        elsewhere = TopicFactory(type=TopicType.ASSIGNMENT, lecture=assignment.lecture)
        Submission.objects.create(user=user, topic=elsewhere, text="other topic")

        response = auth_client.get(submissions_url(assignment.pk))

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 1
        assert [s["id"] for s in body["results"]] == [mine.pk]
        assert set(body["results"][0]) == SUBMISSION_KEYS
        assert "theirs" not in response.content.decode()

    def test_the_learner_sees_grade_and_feedback_once_graded(self, auth_client, user, assignment):
        tutor = assignment.lecture.course.tutor
        submission = Submission.objects.create(user=user, topic=assignment, text="mine")
        client_for(tutor).patch(
            f"/api/submissions/{submission.pk}/", {"grade": 88, "feedback": "Nice work."}
        )

        result = auth_client.get(submissions_url(assignment.pk)).json()["results"][0]

        assert (result["status"], result["grade"], result["feedback"]) == (
            "graded",
            88,
            "Nice work.",
        )
        assert result["graded_at"] is not None

    def test_nothing_submitted_is_an_empty_page(self, auth_client, assignment):
        body = auth_client.get(submissions_url(assignment.pk)).json()
        assert (body["count"], body["results"]) == (0, [])

    @pytest.mark.parametrize("grader", ["tutor", "staff"])
    def test_the_courses_tutor_and_staff_list_every_submission_with_all(self, assignment, grader):
        learners = UserFactory.create_batch(3)
        for learner in learners:
            Submission.objects.create(user=learner, topic=assignment, text=learner.username)
        Submission.objects.create(user=UserFactory(), topic=TopicFactory(), text="other topic")
        who = assignment.lecture.course.tutor if grader == "tutor" else StaffFactory()

        body = client_for(who).get(submissions_url(assignment.pk), {"all": "1"}).json()

        assert body["count"] == 3
        assert {s["user"]["id"] for s in body["results"]} == {u.pk for u in learners}

    def test_all_for_a_learner_is_403_permission_denied(self, auth_client, user, assignment):
        Submission.objects.create(user=UserFactory(), topic=assignment, text="theirs")
        response = auth_client.get(submissions_url(assignment.pk), {"all": "1"})
        assert_error_envelope(response, 403, "permission_denied")

    def test_a_bad_all_value_is_400(self, auth_client, assignment):
        response = auth_client.get(submissions_url(assignment.pk), {"all": "maybe"})
        assert "all" in assert_error_envelope(response, 400, "validation_error")["fields"]

    @pytest.mark.parametrize("count", [2, 25])
    def test_the_list_runs_a_fixed_number_of_queries(
        self, assignment, django_assert_max_num_queries, count
    ):
        for learner in UserFactory.create_batch(count):
            Submission.objects.create(user=learner, topic=assignment, text="x")
        client = client_for(assignment.lecture.course.tutor)

        # Authentication on a cold cache (3) + topic + count + page.
        with django_assert_max_num_queries(6):
            body = client.get(submissions_url(assignment.pk), {"all": "1", "page_size": 100}).json()

        assert body["count"] == count
        assert len(body["results"]) == count


# --- Grading -------------------------------------------------------------------------------------


@pytest.fixture
def submission(user, assignment):
    return Submission.objects.create(user=user, topic=assignment, text="My essay.")


def grade_url(submission_id) -> str:
    return f"/api/submissions/{submission_id}/"


@pytest.mark.django_db
class TestGrading:
    @pytest.mark.parametrize("grader", ["tutor", "staff"])
    def test_the_courses_tutor_or_staff_grade_with_feedback(self, submission, grader):
        who = submission.topic.lecture.course.tutor if grader == "tutor" else StaffFactory()

        response = client_for(who).patch(
            grade_url(submission.pk), {"grade": 75, "feedback": "Good structure."}
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == SUBMISSION_KEYS
        assert (body["status"], body["grade"], body["feedback"]) == (
            "graded",
            75,
            "Good structure.",
        )
        submission.refresh_from_db()
        assert (submission.status, submission.grade, submission.graded_by) == ("graded", 75, who)
        assert submission.graded_at is not None

    @pytest.mark.parametrize("grade", [0, 100])
    def test_grades_at_the_bounds_are_accepted(self, submission, grade):
        tutor = submission.topic.lecture.course.tutor
        response = client_for(tutor).patch(grade_url(submission.pk), {"grade": grade})
        assert response.status_code == 200
        submission.refresh_from_db()
        assert submission.grade == grade

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"grade": -1}, "grade"),
            ({"grade": 101}, "grade"),
            ({"grade": "abc"}, "grade"),
            ({"grade": 50.5}, "grade"),
            ({"grade": None}, "grade"),
            ({"grade": True}, "grade"),
            ({"grade": 80, "feedback": 5}, "feedback"),
            ({"grade": 80, "feedback": "x" * 20001}, "feedback"),
            ({"feedback": "Feedback without a grade."}, "grade"),
            ({}, "grade"),
        ],
    )
    def test_bad_grades_are_400_and_nothing_changes(self, submission, body, field):
        tutor = submission.topic.lecture.course.tutor

        response = client_for(tutor).patch(grade_url(submission.pk), body)

        error = assert_error_envelope(response, 400, "validation_error")
        assert list(error["fields"]) == [field]
        submission.refresh_from_db()
        assert (submission.status, submission.grade, submission.feedback) == ("submitted", None, "")

    def test_a_graded_submission_may_be_regraded_or_get_new_feedback(self, submission):
        client = client_for(submission.topic.lecture.course.tutor)
        client.patch(grade_url(submission.pk), {"grade": 60, "feedback": "First look."})

        feedback_only = client.patch(grade_url(submission.pk), {"feedback": "Second look."})
        regraded = client.patch(grade_url(submission.pk), {"grade": 70})

        assert feedback_only.json()["grade"] == 60
        assert (regraded.status_code, regraded.json()["grade"]) == (200, 70)
        submission.refresh_from_db()
        assert (submission.grade, submission.feedback) == (70, "Second look.")

    def test_a_learner_grading_their_own_submission_is_403(self, auth_client, submission):
        response = auth_client.patch(grade_url(submission.pk), {"grade": 100})
        assert_error_envelope(response, 403, "permission_denied")
        submission.refresh_from_db()
        assert (submission.status, submission.grade) == ("submitted", None)

    @pytest.mark.parametrize("who", ["classmate", "other_tutor"])
    def test_someone_elses_submission_is_404_for_non_graders(self, submission, who):
        caller = UserFactory() if who == "classmate" else TutorFactory()
        if who == "classmate":
            enrol(caller, submission.topic)
        else:
            CourseFactory(tutor=caller)

        response = client_for(caller).patch(grade_url(submission.pk), {"grade": 100})

        assert_error_envelope(response, 404, "not_found")
        submission.refresh_from_db()
        assert (submission.status, submission.grade) == ("submitted", None)

    def test_unknown_submission_is_404_and_anonymous_is_401(self, staff_client, api_client):
        assert_error_envelope(staff_client.patch(grade_url(999999), {"grade": 1}), 404)
        assert_error_envelope(api_client.patch(grade_url(999999), {"grade": 1}), 401)


# --- Concurrency (PostgreSQL) --------------------------------------------------------------------


def _concurrently(count: int, access: str, send) -> list[tuple[int, str | None]]:
    barrier = threading.Barrier(count)

    @on_own_connection
    def one(_n: int) -> tuple[int, str | None]:
        client = CommittingAPIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        barrier.wait()
        response = send(client)
        error = response.json().get("error") or {}
        return response.status_code, error.get("code")

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_exceed_the_maximum(settings):
    settings.QUIZ_MAX_ATTEMPTS = 3
    learner = UserFactory()
    topic = quiz_topic()
    enrol(learner, topic)
    body = {"answers": answers(topic)}

    outcomes = _concurrently(
        20, client_for(learner).token_pair.access, lambda c: c.post(attempts_url(topic.pk), body)
    )

    statuses = [status for status, _code in outcomes]
    assert statuses.count(201) == 3, outcomes
    assert statuses.count(409) == 17, outcomes
    assert {code for status, code in outcomes if status == 409} == {"attempts_exhausted"}
    numbers = QuizAttempt.objects.filter(user=learner, topic=topic).values_list("number", flat=True)
    assert sorted(numbers) == [1, 2, 3]
    assert TopicProgress.objects.filter(user=learner, topic=topic).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_submissions_store_one_row():
    learner = UserFactory()
    topic = TopicFactory(type=TopicType.ASSIGNMENT)
    enrol(learner, topic)

    outcomes = _concurrently(
        10,
        client_for(learner).token_pair.access,
        lambda c: c.post(submissions_url(topic.pk), {"text": "answer"}),
    )

    statuses = sorted(status for status, _code in outcomes)
    assert statuses == [200] * 9 + [201], outcomes
    assert Submission.objects.filter(user=learner, topic=topic).count() == 1
    assert TopicProgress.objects.filter(user=learner, topic=topic).count() == 1

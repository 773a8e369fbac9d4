"""Helpers of the courses tests: URLs, answers to a quiz, where submission files land, and
requests sent at once from threads."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.testing import CommittingAPIClient, on_own_connection
from courses.models import Submission, TopicProgress
from courses.tests.factories import EnrollmentFactory

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


def concurrently(count: int, access: str, send) -> list[tuple[int, str | None]]:
    """`send(client)` from `count` threads at once, each with its own connection and the access
    token `access`: (status, error code) of each."""
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

"""Reviewing quiz attempts: each answer marked right or wrong at once, the key (correct choices
and explanations) only once the learner passed or has no attempt left; the learner's own past
attempts, listed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from courses.models import QuizAttempt, TopicType
from courses.tests.factories import EnrollmentFactory, TopicFactory, quiz_topic
from courses.tests.helpers import answers, attempts_url, concurrently

SECRET = "The first choice, because the secret reasoning says so."


@pytest.fixture
def quiz(user, settings):
    settings.QUIZ_MAX_ATTEMPTS = 3
    settings.QUIZ_PASS_PERCENT = 60
    topic = quiz_topic(questions=3, choices=3)
    topic.questions.update(explanation=SECRET)
    EnrollmentFactory(user=user, course=topic.lecture.course)
    return topic


def correct_choice_ids(topic) -> set[int]:
    return {
        choice.pk
        for question in topic.questions.all()
        for choice in question.choices.all()
        if choice.is_correct
    }


def assert_no_key(response, topic) -> None:
    """Nothing in the response says which choice was right, or why."""
    body = response.json()
    items = body["results"] if "count" in body else [body]
    for attempt in items:
        assert attempt["key_revealed"] is False
        for result in attempt["results"]:
            assert (result["correct_choices"], result["explanation"]) == (None, None)
    assert SECRET not in response.content.decode()


def assert_key(attempt: dict, topic) -> None:
    assert attempt["key_revealed"] is True
    revealed = {c for result in attempt["results"] for c in result["correct_choices"]}
    assert revealed == correct_choice_ids(topic)
    assert {result["explanation"] for result in attempt["results"]} == {SECRET}


@pytest.mark.django_db
class TestTheKeyWaits:
    def test_a_failed_attempt_with_attempts_left_marks_answers_but_hides_the_key(
        self, auth_client, quiz
    ):
        response = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 1)})

        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["passed"], body["attempts_left"]) == (False, 2)
        assert [result["correct"] for result in body["results"]] == [True, False, False]
        assert_no_key(response, quiz)

    def test_fail_then_read_the_key_anywhere_finds_nothing(self, auth_client, quiz):
        """The attack of the audit: fail once, read the key, score 100 the next time."""
        auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 0)})

        assert_no_key(auth_client.get(attempts_url(quiz.pk)), quiz)
        study = auth_client.get(f"/api/topics/{quiz.pk}/")
        assert study.status_code == 200
        assert SECRET not in study.content.decode()
        assert "is_correct" not in study.content.decode()
        editing = auth_client.get(f"/api/courses/{quiz.lecture.course_id}/edit/")
        assert_error_envelope(editing, 403, "permission_denied")
        assert SECRET not in editing.content.decode()

    def test_a_pass_reveals_the_key_of_every_attempt(self, auth_client, quiz):
        auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 0)})

        passed = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 2)})

        assert passed.json()["passed"] is True
        assert_key(passed.json(), quiz)
        listed = auth_client.get(attempts_url(quiz.pk)).json()["results"]
        assert [attempt["number"] for attempt in listed] == [2, 1]
        for attempt in listed:
            assert_key(attempt, quiz)

    def test_the_last_attempt_reveals_the_key_even_when_failed(self, auth_client, quiz):
        for number in (1, 2):
            response = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 0)})
            assert response.json()["number"] == number
            assert_no_key(response, quiz)

        last = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 0)})

        assert (last.json()["number"], last.json()["attempts_left"]) == (3, 0)
        assert_key(last.json(), quiz)

    def test_with_unlimited_attempts_only_a_pass_reveals_it(self, auth_client, quiz, settings):
        settings.QUIZ_MAX_ATTEMPTS = 0
        for _ in range(5):
            failed = auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, 1)})
            assert failed.json()["attempts_left"] is None
            assert_no_key(failed, quiz)
        assert_key(auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz)}).json(), quiz)

    def test_a_replayed_failed_attempt_stays_without_the_key(self, auth_client, quiz):
        body = {"answers": answers(quiz, 0)}
        auth_client.post(attempts_url(quiz.pk), body, HTTP_IDEMPOTENCY_KEY="k-1")
        replay = auth_client.post(attempts_url(quiz.pk), body, HTTP_IDEMPOTENCY_KEY="k-1")
        assert replay["Idempotent-Replayed"] == "true"
        assert_no_key(replay, quiz)
        assert QuizAttempt.objects.count() == 1


@pytest.mark.django_db
class TestMyAttempts:
    def test_the_learner_lists_their_own_attempts_latest_first(self, auth_client, user, quiz):
        for right in (0, 1):
            auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz, right)})

        response = auth_client.get(attempts_url(quiz.pk))

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 2
        assert [(a["number"], a["correct"], a["passed"]) for a in body["results"]] == [
            (2, 1, False),
            (1, 0, False),
        ]
        assert [r["correct"] for r in body["results"][0]["results"]] == [True, False, False]
        assert body["results"][0]["attempts_left"] == 1
        assert QuizAttempt.objects.filter(user=user).count() == 2

    def test_nobody_lists_another_learners_attempts(self, auth_client, api_client, user, quiz):
        auth_client.post(attempts_url(quiz.pk), {"answers": answers(quiz)})
        classmate = UserFactory()
        EnrollmentFactory(user=classmate, course=quiz.lecture.course)
        classmates = client_for(classmate)

        for query in ({}, {"user": user.pk}, {"user_id": user.pk}):
            body = classmates.get(attempts_url(quiz.pk), query).json()
            assert (body["count"], body["results"]) == (0, [])
        outsider = client_for(UserFactory()).get(attempts_url(quiz.pk))
        assert_error_envelope(outsider, 403, "not_entitled")
        anonymous = api_client.get(attempts_url(quiz.pk))
        assert_error_envelope(anonymous, 401, "not_authenticated")

    def test_a_topic_that_is_no_quiz_is_400(self, auth_client, user):
        topic = TopicFactory(type=TopicType.ARTICLE)
        EnrollmentFactory(user=user, course=topic.lecture.course)
        assert_error_envelope(auth_client.get(attempts_url(topic.pk)), 400, "not_a_quiz")

    @pytest.mark.parametrize("count", [2, 25])
    def test_the_list_runs_a_fixed_number_of_queries(self, user, quiz, settings, count):
        settings.QUIZ_MAX_ATTEMPTS = 0
        for number in range(1, count + 1):
            QuizAttempt.objects.create(
                user=user, topic=quiz, number=number, answers=answers(quiz, 0), correct=0,
                total=3, passed=False,
            )  # fmt: skip
        client = client_for(user)
        client.get(f"/api/topics/{quiz.pk}/")  # the session's cache is warm

        with CaptureQueriesContext(connection) as captured:
            body = client.get(attempts_url(quiz.pk), {"page_size": 100}).json()

        assert len(body["results"]) == count
        # Authentication, topic, entitlement, count, page, questions, choices, standing.
        assert len(captured) <= 8, [query["sql"][:80] for query in captured]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_failed_attempts_reveal_the_key_to_the_last_one_only(settings):
    """Twelve failed attempts at once against a limit of three: three are stored, and only the
    one that took the last number sees the key."""
    settings.QUIZ_MAX_ATTEMPTS = 3
    learner = UserFactory()
    topic = quiz_topic()
    topic.questions.update(explanation=SECRET)
    EnrollmentFactory(user=learner, course=topic.lecture.course)
    client = client_for(learner)
    revealed = []

    def send(c):
        response = c.post(attempts_url(topic.pk), {"answers": answers(topic, 0)})
        if response.status_code == 201:
            revealed.append((response.json()["number"], response.json()["key_revealed"]))
        return response

    outcomes = concurrently(12, client.token_pair.access, send)

    assert sorted(status for status, _code in outcomes) == [201] * 3 + [409] * 9, outcomes
    assert sorted(revealed) == [(1, False), (2, False), (3, True)]
    listed = client.get(attempts_url(topic.pk)).json()["results"]
    assert [attempt["key_revealed"] for attempt in listed] == [True, True, True]

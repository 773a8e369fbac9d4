"""Taking a quiz (POST /api/topics/{id}/quiz-attempts/): graded on the server, within the
attempt limit; status, body and the database after."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from courses.models import QuizAttempt, TopicProgress, TopicType
from courses.tests.factories import (
    ChoiceFactory,
    EnrollmentFactory,
    QuestionFactory,
    TopicFactory,
    quiz_topic,
)
from courses.tests.helpers import answers, attempts_url, completed, concurrently, enrol

pytestmark = pytest.mark.usefixtures("files_in_tmp")

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_never_exceed_the_maximum(settings):
    settings.QUIZ_MAX_ATTEMPTS = 3
    learner = UserFactory()
    topic = quiz_topic()
    enrol(learner, topic)
    body = {"answers": answers(topic)}

    outcomes = concurrently(
        20, client_for(learner).token_pair.access, lambda c: c.post(attempts_url(topic.pk), body)
    )

    statuses = [status for status, _code in outcomes]
    assert statuses.count(201) == 3, outcomes
    assert statuses.count(409) == 17, outcomes
    assert {code for status, code in outcomes if status == 409} == {"attempts_exhausted"}
    numbers = QuizAttempt.objects.filter(user=learner, topic=topic).values_list("number", flat=True)
    assert sorted(numbers) == [1, 2, 3]
    assert TopicProgress.objects.filter(user=learner, topic=topic).count() == 1

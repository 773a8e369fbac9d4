"""Taking a quiz: an attempt graded on the server, within QUIZ_MAX_ATTEMPTS (0 = unlimited); a
score of QUIZ_PASS_PERCENT or more completes the topic."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from courses.errors import AttemptsExhausted, NotAQuiz, QuizEmpty
from courses.models import QuizAttempt, Topic, TopicType
from courses.selectors.learning import (
    GradedAttempt,
    quiz_answer_results,
    quiz_key_revealed,
    quiz_questions,
    quiz_standing,
)
from courses.services.enrollments import topic_progress_record


def quiz_max_attempts() -> int:
    return settings.QUIZ_MAX_ATTEMPTS


def quiz_pass_percent() -> int:
    return settings.QUIZ_PASS_PERCENT


def _answers_check(*, questions, answers: dict[int, int]) -> None:
    """Every question answered exactly once, each with one of its own choices."""
    question_ids = {question.pk for question in questions}
    errors = []
    missing = sorted(question_ids - answers.keys())
    if missing:
        errors.append(
            _("Answer every question; missing: %(ids)s.") % {"ids": ", ".join(map(str, missing))}
        )
    unknown = sorted(answers.keys() - question_ids)
    if unknown:
        errors.append(
            _("Not questions of this quiz: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
        )
    for question in questions:
        choice_id = answers.get(question.pk)
        if choice_id is not None and choice_id not in {c.pk for c in question.choices.all()}:
            errors.append(
                _("Choice %(choice)s is not an option of question %(question)s.")
                % {"choice": choice_id, "question": question.pk}
            )
    if errors:
        raise ValidationError({"answers": errors})


def _attempt_store(*, user, topic: Topic, number: int, limit: int, **fields) -> QuizAttempt:
    """Take the next free attempt number. The unique (user, topic, number) constraint decides
    between concurrent attempts, and no number above the limit is ever taken, so concurrent
    requests can never store more attempts than the limit."""
    while True:
        if limit and number > limit:
            raise AttemptsExhausted()
        try:
            with transaction.atomic():
                return QuizAttempt.objects.create(user=user, topic=topic, number=number, **fields)
        except IntegrityError:
            if not QuizAttempt.objects.filter(user=user, topic=topic, number=number).exists():
                raise
            number += 1  # a concurrent attempt committed this number first


def quiz_attempt_create(*, user, topic: Topic, answers: dict[int, int]) -> GradedAttempt:
    """Grade `answers` (question id → choice id) against the stored correct choices and store the
    attempt; a pass (score >= QUIZ_PASS_PERCENT) completes the topic. The result marks each answer
    right or wrong; the correct choices and explanations come only once the learner passed or
    used the last attempt (selectors.learning.quiz_key_revealed)."""
    if topic.type != TopicType.QUIZ:
        raise NotAQuiz()
    questions = quiz_questions(topic=topic)
    if not questions:
        raise QuizEmpty()
    limit = quiz_max_attempts()
    standing = quiz_standing(user=user, topic=topic)
    number = standing.last_number + 1
    if limit and number > limit:
        raise AttemptsExhausted()
    _answers_check(questions=questions, answers=answers)

    graded = quiz_answer_results(questions=questions, answers=answers, reveal=False)
    correct = sum(result.correct for result in graded)
    pass_percent = quiz_pass_percent()
    passed = 100 * correct >= pass_percent * len(questions)  # exact: no rounding at the border

    with transaction.atomic():
        attempt = _attempt_store(
            user=user,
            topic=topic,
            number=number,
            limit=limit,
            answers={str(r.question): r.choice for r in graded},
            correct=correct,
            total=len(questions),
            passed=passed,
        )
        if passed:
            topic_progress_record(user=user, topic=topic, completed=True)
    # The number actually stored decides: a concurrent attempt may have taken the one expected.
    reveal = quiz_key_revealed(
        passed=passed or standing.passed, attempts_used=attempt.number, limit=limit
    )
    return GradedAttempt(
        attempt=attempt,
        results=quiz_answer_results(questions=questions, answers=answers, reveal=reveal),
        attempts_left=max(limit - attempt.number, 0) if limit else None,
        pass_percent=pass_percent,
        key_revealed=reveal,
    )

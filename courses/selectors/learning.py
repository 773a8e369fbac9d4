"""Reads for quizzes and assignments: questions to grade against, a learner's attempts as they
may review them, and submissions as their learner, the course's tutor and staff may read them."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.http import Http404

from courses.errors import NotAQuiz, TutorOrStaffOnly
from courses.models import Choice, Question, QuizAttempt, Submission, Topic, TopicType
from courses.permissions import user_can_grade


def quiz_questions(*, topic: Topic) -> list[Question]:
    """The quiz's questions in order, each with its choices prefetched (two queries)."""
    return list(
        Question.objects.filter(topic=topic).prefetch_related(
            Prefetch("choices", queryset=Choice.objects.order_by("position", "id"))
        )
    )


@dataclass(frozen=True)
class QuizStanding:
    last_number: int  # the highest attempt number used (0 before the first)
    passed: bool  # any attempt passed


def quiz_standing(*, user, topic: Topic) -> QuizStanding:
    """Where the user stands on this quiz (one query)."""
    result = QuizAttempt.objects.filter(user=user, topic=topic).aggregate(
        last=Max("number"), passes=Count("pk", filter=Q(passed=True))
    )
    return QuizStanding(last_number=result["last"] or 0, passed=bool(result["passes"]))


def quiz_key_revealed(*, passed: bool, attempts_used: int, limit: int) -> bool:
    """Which choices were right, and why, is shown once the learner passed or has no attempt
    left (limit 0: unlimited), like Moodle's "after the quiz is closed" review option. Before
    that each answer is only marked right or wrong, so the next attempt cannot copy the key."""
    return passed or bool(limit and attempts_used >= limit)


@dataclass(frozen=True)
class AnswerResult:
    question: int
    choice: int
    correct: bool
    correct_choices: list[int] | None  # None until the key is revealed
    explanation: str | None


@dataclass(frozen=True)
class GradedAttempt:
    attempt: QuizAttempt
    results: list[AnswerResult]
    attempts_left: int | None  # after this attempt; None: unlimited
    pass_percent: int
    key_revealed: bool


def quiz_answer_results(
    *, questions: list[Question], answers: dict[int, int], reveal: bool
) -> list[AnswerResult]:
    """One result per answered question, in the quiz's order: right or wrong always, the correct
    choices and the explanation only when `reveal`."""
    results = []
    for question in questions:
        if question.pk not in answers:
            continue  # added to the quiz after the attempt
        correct_choices = [choice.pk for choice in question.choices.all() if choice.is_correct]
        results.append(
            AnswerResult(
                question=question.pk,
                choice=answers[question.pk],
                correct=answers[question.pk] in correct_choices,
                correct_choices=correct_choices if reveal else None,
                explanation=question.explanation if reveal else None,
            )
        )
    return results


def quiz_attempt_list(*, user, topic: Topic) -> QuerySet[QuizAttempt]:
    """The user's own attempts at the quiz, the latest first."""
    if topic.type != TopicType.QUIZ:
        raise NotAQuiz()
    return QuizAttempt.objects.filter(user=user, topic=topic).order_by("-number")


def quiz_attempts_reviewed(
    *, user, topic: Topic, attempts: list[QuizAttempt]
) -> list[GradedAttempt]:
    """`attempts` as their learner may review them now, judged against the quiz's current
    questions (three queries, whatever the number of attempts)."""
    questions = quiz_questions(topic=topic)
    standing = quiz_standing(user=user, topic=topic)
    limit = settings.QUIZ_MAX_ATTEMPTS
    reveal = quiz_key_revealed(
        passed=standing.passed, attempts_used=standing.last_number, limit=limit
    )
    return [
        GradedAttempt(
            attempt=attempt,
            results=quiz_answer_results(
                questions=questions,
                answers={int(question): choice for question, choice in attempt.answers.items()},
                reveal=reveal,
            ),
            attempts_left=max(limit - attempt.number, 0) if limit else None,
            pass_percent=settings.QUIZ_PASS_PERCENT,
            key_revealed=reveal,
        )
        for attempt in attempts
    ]


def submission_list(*, user, topic: Topic, every_learner: bool = False) -> QuerySet[Submission]:
    """`user`'s own submissions for the topic, newest first; with `every_learner`, everyone's,
    which only the course's tutor and staff see (else TutorOrStaffOnly)."""
    submissions = Submission.objects.filter(topic=topic).select_related("user")
    if not every_learner:
        submissions = submissions.filter(user=user)
    elif not user_can_grade(user, topic.lecture.course):
        raise TutorOrStaffOnly(TutorOrStaffOnly.SEE_ALL_SUBMISSIONS)
    return submissions.order_by("-updated_at", "-id")


def submission_for_grading(*, user, submission_id: int) -> Submission:
    """The submission if `user` may grade it. A learner's own submission is TutorOrStaffOnly;
    anyone else's, or an unknown id, is 404 so that nobody learns that another learner's work
    exists."""
    submission = (
        Submission.objects.select_related("user", "topic__lecture__course")
        .filter(pk=submission_id)
        .first()
    )
    if submission is not None and user_can_grade(user, submission.topic.lecture.course):
        return submission
    if submission is not None and submission.user_id == user.pk:
        raise TutorOrStaffOnly(TutorOrStaffOnly.GRADE)
    raise Http404


def submission_for_download(*, user, submission_id: int) -> Submission:
    """A submission with a file, for its learner, the course's tutor or staff; anyone else gets
    404 like an unknown id or a submission without a file, so nobody learns that another
    learner's work exists."""
    submission = (
        Submission.objects.select_related("topic__lecture__course")
        .filter(pk=submission_id)
        .exclude(file="")
        .first()
    )
    if submission is not None and (
        submission.user_id == user.pk or user_can_grade(user, submission.topic.lecture.course)
    ):
        return submission
    raise Http404

"""Reads for quizzes and assignments: questions to grade against, submissions and who may grade."""

from django.db.models import Max, Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError
from courses.models import Choice, Course, Question, QuizAttempt, Submission, Topic


def quiz_questions(*, topic: Topic) -> list[Question]:
    """The quiz's questions in order, each with its choices prefetched (two queries)."""
    return list(
        Question.objects.filter(topic=topic).prefetch_related(
            Prefetch("choices", queryset=Choice.objects.order_by("position", "id"))
        )
    )


def quiz_attempt_last_number(*, user, topic: Topic) -> int:
    """The highest attempt number the user has used on this quiz (0 before the first)."""
    result = QuizAttempt.objects.filter(user=user, topic=topic).aggregate(last=Max("number"))
    return result["last"] or 0


def user_can_grade(user, course: Course) -> bool:
    """The course's tutor and staff grade its assignments."""
    return bool(user.is_authenticated and (user.is_staff or course.tutor_id == user.pk))


def submission_list(*, topic: Topic, user=None) -> QuerySet[Submission]:
    """Submissions for a topic, newest first; only `user`'s own when given."""
    submissions = Submission.objects.filter(topic=topic).select_related("user")
    if user is not None:
        submissions = submissions.filter(user=user)
    return submissions.order_by("-updated_at", "-id")


def submission_for_grading(*, user, submission_id: int) -> Submission:
    """The submission if `user` may grade it. A learner's own submission is 403; anyone else's,
    or an unknown id, is 404 so that nobody learns that another learner's work exists."""
    submission = (
        Submission.objects.select_related("user", "topic__lecture__course")
        .filter(pk=submission_id)
        .first()
    )
    if submission is not None and user_can_grade(user, submission.topic.lecture.course):
        return submission
    if submission is not None and submission.user_id == user.pk:
        raise ApplicationError(
            "permission_denied",
            _("Only the course's tutor or staff can grade a submission."),
            status.HTTP_403_FORBIDDEN,
        )
    raise ApplicationError("not_found", _("Not found."), status.HTTP_404_NOT_FOUND)

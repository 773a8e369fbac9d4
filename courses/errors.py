"""The rules of the courses app, one class each: who may study and edit, deleting what was sold
or studied, quizzes, assignments and their files. Who may do what is courses.permissions."""

from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.errors import PermissionDenied
from core.exceptions import ApplicationError

# --- studying and editing -----------------------------------------------------------------------


class NotEntitled(ApplicationError):
    """Signed in, but not enrolled (nor the course's tutor or staff), in a topic's course that is
    not a preview. Without credentials the answer is 401 `not_authenticated` instead
    (courses.apis.access)."""

    code = "not_entitled"
    status = status.HTTP_403_FORBIDDEN
    message = _("Enrol in this course to study this topic.")


class TutorOrStaffOnly(PermissionDenied):
    """What only the course's (or curriculum's) tutor and staff may do: edit it, see every
    submission of its assignments and grade them (courses.permissions). The message says which."""

    code = "permission_denied"
    status = status.HTTP_403_FORBIDDEN
    message = _("Only the course's tutor or staff can do this.")
    EDIT = _("Only the course's tutor or staff can edit this course.")
    SEE_ALL_SUBMISSIONS = _("Only the course's tutor or staff see every submission.")
    GRADE = _("Only the course's tutor or staff can grade a submission.")


# --- deleting -------------------------------------------------------------------------------------


class CourseHasEnrollments(ApplicationError):
    """Someone may study the course now: unpublish it instead."""

    code = "course_has_enrollments"
    status = status.HTTP_409_CONFLICT
    message = _("Learners are enrolled in this course; unpublish it instead of deleting it.")


class CourseHasOrders(ApplicationError):
    """Order lines keep what they sold (receipts show it): unpublish it instead."""

    code = "course_has_orders"
    status = status.HTTP_409_CONFLICT
    message = _("This course has been ordered; unpublish it instead of deleting it.")


class CurriculumHasOrders(ApplicationError):
    """Order lines keep what they sold (receipts show it): unpublish it instead."""

    code = "curriculum_has_orders"
    status = status.HTTP_409_CONFLICT
    message = _("This curriculum has been ordered; unpublish it instead of deleting it.")


# --- quizzes --------------------------------------------------------------------------------------


class NotAQuiz(ApplicationError):
    code = "not_a_quiz"
    message = _("This topic is not a quiz.")


class QuizEmpty(ApplicationError):
    code = "quiz_empty"
    status = status.HTTP_409_CONFLICT
    message = _("This quiz has no questions yet.")


class AttemptsExhausted(ApplicationError):
    """QUIZ_MAX_ATTEMPTS used (0: unlimited), concurrent attempts included."""

    code = "attempts_exhausted"
    status = status.HTTP_409_CONFLICT
    message = _("You have used every attempt at this quiz.")


# --- assignments ----------------------------------------------------------------------------------


class NotAnAssignment(ApplicationError):
    code = "not_an_assignment"
    message = _("This topic is not an assignment.")


class InvalidFile(ApplicationError):
    """A type SUBMISSION_ALLOWED_EXTENSIONS does not allow, or content that is not of its type
    (a renamed program, a broken image, a binary .txt)."""

    code = "invalid_file"
    message = _("Allowed file types: %(types)s.")
    field = "file"
    CONTENT_MISMATCH = _("The file's content does not match its .%(ext)s type.")


class AlreadyGraded(ApplicationError):
    code = "already_graded"
    status = status.HTTP_409_CONFLICT
    message = _("This submission has been graded and can no longer be changed.")

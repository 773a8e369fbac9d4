"""Writes of learning activities: graded quiz attempts, assignment submissions and their grading.

Settings: QUIZ_MAX_ATTEMPTS (0 = unlimited), QUIZ_PASS_PERCENT, SUBMISSION_MAX_FILE_BYTES and
SUBMISSION_ALLOWED_EXTENSIONS.
"""

import json
import posixpath
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from PIL import Image
from rest_framework import status

from core.exceptions import ApplicationError
from courses.models import QuizAttempt, Submission, SubmissionStatus, Topic, TopicType
from courses.selectors.learning import (
    GradedAttempt,
    not_a_quiz,
    quiz_answer_results,
    quiz_key_revealed,
    quiz_questions,
    quiz_standing,
    user_can_grade,
)
from courses.services.enrollments import topic_progress_record

# Leading bytes of each binary type: a renamed .exe is refused whatever its name says.
FILE_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),  # the second is an empty archive
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG"}
TEXT_EXTENSIONS = ("txt", "md", "py")
# Only types with a content check can be allowed; the setting may narrow this list.
CHECKED_EXTENSIONS = (*FILE_SIGNATURES, *TEXT_EXTENSIONS, "ipynb")


def quiz_max_attempts() -> int:
    return settings.QUIZ_MAX_ATTEMPTS


def quiz_pass_percent() -> int:
    return settings.QUIZ_PASS_PERCENT


def submission_max_file_bytes() -> int:
    return settings.SUBMISSION_MAX_FILE_BYTES


def submission_allowed_extensions() -> list[str]:
    allowed = settings.SUBMISSION_ALLOWED_EXTENSIONS
    return [
        ext.lower().lstrip(".") for ext in allowed if ext.lower().lstrip(".") in CHECKED_EXTENSIONS
    ]


# --- Quiz attempts -------------------------------------------------------------------------------


def attempts_exhausted() -> ApplicationError:
    return ApplicationError(
        "attempts_exhausted",
        _("You have used every attempt at this quiz."),
        status.HTTP_409_CONFLICT,
    )


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
            raise attempts_exhausted()
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
        raise not_a_quiz()
    questions = quiz_questions(topic=topic)
    if not questions:
        raise ApplicationError(
            "quiz_empty", _("This quiz has no questions yet."), status.HTTP_409_CONFLICT
        )
    limit = quiz_max_attempts()
    standing = quiz_standing(user=user, topic=topic)
    number = standing.last_number + 1
    if limit and number > limit:
        raise attempts_exhausted()
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


# --- Submissions ---------------------------------------------------------------------------------


def invalid_file(message) -> ApplicationError:
    return ApplicationError("invalid_file", message, fields={"file": [str(message)]})


def _content_matches(*, extension: str, file: UploadedFile) -> bool:
    file.seek(0)
    if extension in FILE_SIGNATURES:
        if not file.read(8).startswith(FILE_SIGNATURES[extension]):
            return False
        if extension in IMAGE_FORMATS:
            file.seek(0)
            try:
                with Image.open(file) as image:
                    image.verify()
                    return image.format == IMAGE_FORMATS[extension]
            except Exception:  # Pillow raises many types for broken or hostile images
                return False
        return True
    try:
        text = file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if "\x00" in text:
        return False
    if extension == "ipynb":
        try:
            notebook = json.loads(text)
        except (ValueError, RecursionError):
            return False
        return isinstance(notebook, dict) and isinstance(notebook.get("cells"), list)
    return True


def submission_file_check(*, file: UploadedFile) -> str:
    """Size, extension and content; returns the name to store the file under (a random folder
    keeps one learner's file URL from being guessed from another's)."""
    limit = submission_max_file_bytes()
    if file.size > limit:
        message = _("Files may be at most %(size)s.") % {"size": filesizeformat(limit)}
        raise ApplicationError(
            "file_too_large",
            message,
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            fields={"file": [str(message)]},
        )
    stem, dot, extension = posixpath.basename((file.name or "").replace("\\", "/")).rpartition(".")
    extension = extension.lower()
    allowed = submission_allowed_extensions()
    if not dot or not stem or extension not in allowed:
        raise invalid_file(
            _("Allowed file types: %(types)s.") % {"types": ", ".join(sorted(allowed))}
        )
    if not _content_matches(extension=extension, file=file):
        raise invalid_file(
            _("The file's content does not match its .%(ext)s type.") % {"ext": extension}
        )
    file.seek(0)
    return f"{secrets.token_hex(8)}/{stem[:50]}.{extension}"


def already_graded() -> ApplicationError:
    return ApplicationError(
        "already_graded",
        _("This submission has been graded and can no longer be changed."),
        status.HTTP_409_CONFLICT,
    )


def _submission_locked(*, user, topic: Topic) -> tuple[Submission, bool]:
    """The learner's submission row, locked (created when missing): resubmission and grading
    never interleave."""
    submission = Submission.objects.select_for_update().filter(user=user, topic=topic).first()
    if submission is not None:
        return submission, False
    try:
        with transaction.atomic():
            return Submission.objects.create(user=user, topic=topic), True
    except IntegrityError:  # a concurrent first submission won
        return Submission.objects.select_for_update().get(user=user, topic=topic), False


def submission_submit(
    *, user, topic: Topic, text: str = "", file: UploadedFile | None = None
) -> tuple[Submission, bool]:
    """Submit, or resubmit while not yet graded: the new text and file replace the old ones.
    Returns (submission, created); submitting completes the topic."""
    if topic.type != TopicType.ASSIGNMENT:
        raise ApplicationError("not_an_assignment", _("This topic is not an assignment."))
    if not text and file is None:
        raise ValidationError(_("Send a text, a file, or both."))
    file_name = submission_file_check(file=file) if file is not None else None

    with transaction.atomic():
        submission, created = _submission_locked(user=user, topic=topic)
        if submission.status == SubmissionStatus.GRADED:
            raise already_graded()
        old_file, new_file = submission.file.name, ""
        storage = submission.file.storage
        submission.text = text
        try:
            if file_name:
                submission.file.save(file_name, file, save=False)
                new_file = submission.file.name
            else:
                submission.file = ""
            submission.save(update_fields=["text", "file", "updated_at"])
            topic_progress_record(user=user, topic=topic, completed=True)
        except BaseException:
            if new_file:  # stored but never committed
                storage.delete(new_file)
            raise
        if old_file:
            transaction.on_commit(lambda: storage.delete(old_file))
    return submission, created


def submission_grade(
    *, grader, submission: Submission, grade: int | None = None, feedback: str | None = None
) -> Submission:
    """Grade (0-100) and/or give feedback; a graded submission may be regraded."""
    if not user_can_grade(grader, submission.topic.lecture.course):
        raise ApplicationError(
            "permission_denied",
            _("Only the course's tutor or staff can grade a submission."),
            status.HTTP_403_FORBIDDEN,
        )
    with transaction.atomic():
        locked = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=submission.pk)
        )
        if grade is None and locked.status != SubmissionStatus.GRADED:
            raise ValidationError({"grade": [_("Give a grade from 0 to 100.")]})
        fields = ["updated_at"]
        if grade is not None:
            locked.grade, locked.status = grade, SubmissionStatus.GRADED
            locked.graded_by, locked.graded_at = grader, timezone.now()
            fields += ["grade", "status", "graded_by", "graded_at"]
        if feedback is not None:
            locked.feedback = feedback
            fields.append("feedback")
        locked.save(update_fields=fields)
    return locked

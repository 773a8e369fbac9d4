"""Assignments: submitting text and/or a file (checked by size, type and content), resubmitting
until graded, and grading. Settings: SUBMISSION_MAX_FILE_BYTES, SUBMISSION_ALLOWED_EXTENSIONS."""

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

from core.errors import FileTooLarge
from courses.errors import AlreadyGraded, InvalidFile, NotAnAssignment, TutorOrStaffOnly
from courses.models import Submission, SubmissionStatus, Topic, TopicType
from courses.permissions import user_can_grade
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


def submission_max_file_bytes() -> int:
    return settings.SUBMISSION_MAX_FILE_BYTES


def submission_allowed_extensions() -> list[str]:
    allowed = settings.SUBMISSION_ALLOWED_EXTENSIONS
    return [
        ext.lower().lstrip(".") for ext in allowed if ext.lower().lstrip(".") in CHECKED_EXTENSIONS
    ]


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
    assert file.size is not None  # upload handlers always set it  # nosec B101
    if file.size > limit:
        raise FileTooLarge(size=filesizeformat(limit))
    stem, dot, extension = posixpath.basename((file.name or "").replace("\\", "/")).rpartition(".")
    extension = extension.lower()
    allowed = submission_allowed_extensions()
    if not dot or not stem or extension not in allowed:
        raise InvalidFile(types=", ".join(sorted(allowed)))
    if not _content_matches(extension=extension, file=file):
        raise InvalidFile(InvalidFile.CONTENT_MISMATCH, ext=extension)
    file.seek(0)
    return f"{secrets.token_hex(8)}/{stem[:50]}.{extension}"


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
        raise NotAnAssignment()
    if not text and file is None:
        raise ValidationError(_("Send a text, a file, or both."))
    file_name = submission_file_check(file=file) if file is not None else ""

    with transaction.atomic():
        submission, created = _submission_locked(user=user, topic=topic)
        if submission.status == SubmissionStatus.GRADED:
            raise AlreadyGraded()
        old_file = submission.file.name
        new_file: str | None = ""
        storage = submission.file.storage
        submission.text = text
        try:
            if file is not None:
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
            transaction.on_commit(lambda: storage.delete(old_file), robust=True)
    return submission, created


def submission_grade(
    *, grader, submission: Submission, grade: int | None = None, feedback: str | None = None
) -> Submission:
    """Grade (0-100) and/or give feedback; a graded submission may be regraded."""
    if not user_can_grade(grader, submission.topic.lecture.course):
        raise TutorOrStaffOnly(TutorOrStaffOnly.GRADE)
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

"""Writing courses (with their whole tree in one go: courses.services.course_tree), their
thumbnails, and curriculums, as an actor: who may is courses.permissions; whose a course is and
which courses a curriculum bundles are decided here."""

import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _

from core.images import image_encode
from courses.errors import (
    CourseHasEnrollments,
    CourseHasOrders,
    CurriculumHasOrders,
    TutorOrStaffOnly,
)
from courses.models import Course, Curriculum, CurriculumCourse
from courses.permissions import user_can_edit, user_can_write_catalogue
from courses.registry import course_access_changed
from courses.selectors.enrollments import active_enrollments
from courses.services.course_tree import course_tree_replace, course_tree_size_errors

COURSE_FIELDS = (
    "title",
    "short_description",
    "description",
    "category",
    "skill_level",
    "price",
    "is_published",
)
CURRICULUM_FIELDS = ("title", "description", "price", "is_published")


def _edit_check(actor, item: Course | Curriculum | None) -> None:
    """A new item: tutors and staff; an existing one: those who may edit it."""
    if item is None and not user_can_write_catalogue(actor):
        raise TutorOrStaffOnly()
    if item is not None and not user_can_edit(actor, item):
        raise TutorOrStaffOnly(TutorOrStaffOnly.EDIT if isinstance(item, Course) else None)


def course_save(*, actor, course: Course | None = None, data: dict) -> Course:
    """Create (course=None) or update a course as `actor`; `lectures`, when given, replaces the
    tree. A new course is the actor's; staff may name its tutor (`tutor`, on create or update),
    which is ignored from anyone else."""
    _edit_check(actor, course)
    lectures = data.get("lectures")
    if lectures is not None and (errors := course_tree_size_errors(lectures)):
        raise ValidationError(errors)
    with transaction.atomic():
        created = course is None
        if course is None:
            course = Course(tutor=actor)
        if data.get("tutor") is not None and actor.is_staff:
            course.tutor = data["tutor"]
        for field in COURSE_FIELDS:
            if field in data:
                setattr(course, field, data[field])
        # Publishing, unpublishing or a new tutor changes who may use the course (its chat room).
        access_before = (
            None
            if created
            else Course.objects.values_list("is_published", "tutor_id").get(pk=course.pk)
        )
        # Updating the course row first also locks it: concurrent writes of one tree queue up.
        course.save()
        if access_before != (course.is_published, course.tutor_id):
            course_access_changed.announce_on_commit(user_ids=None, course_ids=[course.pk])
        if lectures is not None:
            course_tree_replace(course=course, lectures=lectures, created=created)
    return course


def course_thumbnail_set(*, actor, course: Course, file: UploadedFile | None) -> Course:
    """Store a checked, re-encoded copy of `file` (core.images) as the thumbnail; None removes
    it. The previous file goes once the change is committed."""
    _edit_check(actor, course)
    previous = course.thumbnail.name
    storage = course.thumbnail.storage
    if file is None:
        course.thumbnail = ""
    else:
        encoded = image_encode(file=file)
        course.thumbnail.save(
            f"{secrets.token_urlsafe(16)}.{encoded.extension}",
            ContentFile(encoded.content),
            save=False,
        )
    try:
        with transaction.atomic():
            course.save(update_fields=["thumbnail", "updated_at"])
    except BaseException:
        if course.thumbnail.name:
            storage.delete(course.thumbnail.name)
        raise
    if previous and previous != course.thumbnail.name:
        transaction.on_commit(lambda: storage.delete(previous), robust=True)
    return course


def course_delete(*, actor, course: Course) -> None:
    """Refused while anyone may study it, or once it was ordered: unpublish it instead."""
    _edit_check(actor, course)
    if active_enrollments().filter(course=course).exists():
        raise CourseHasEnrollments()
    try:
        course.delete()
    except ProtectedError:
        # Order lines protect what they sold (receipts show it); the delete changed nothing.
        raise CourseHasOrders() from None


def _courses_to_bundle(*, actor, course_ids: list[int]) -> list[Course]:
    """The courses named, in order: each once, each existing, each the actor's own (staff may
    bundle any course)."""
    courses = Course.objects.in_bulk(course_ids)
    missing = [pk for pk in course_ids if pk not in courses]
    foreign = [
        pk for pk, course in courses.items() if not actor.is_staff and course.tutor_id != actor.pk
    ]
    if missing or foreign or len(set(course_ids)) != len(course_ids):
        message = _("Name each of your own courses once: %(ids)s") % {"ids": missing + foreign}
        raise ValidationError({"course_ids": [message]})
    return [courses[pk] for pk in course_ids]


def curriculum_save(
    *,
    actor,
    curriculum: Curriculum | None = None,
    data: dict,
    course_ids: list[int] | None = None,
) -> Curriculum:
    """Create (curriculum=None: the actor's) or update a curriculum as `actor`; `course_ids`,
    when given, replaces the bundle, in that order."""
    _edit_check(actor, curriculum)
    courses = None if course_ids is None else _courses_to_bundle(actor=actor, course_ids=course_ids)
    with transaction.atomic():
        if curriculum is None:
            curriculum = Curriculum(tutor=actor)
        for field in CURRICULUM_FIELDS:
            if field in data:
                setattr(curriculum, field, data[field])
        curriculum.save()
        if courses is not None:
            CurriculumCourse.objects.filter(curriculum=curriculum).delete()
            CurriculumCourse.objects.bulk_create(
                CurriculumCourse(curriculum=curriculum, course=course, position=position)
                for position, course in enumerate(courses)
            )
    return curriculum


def curriculum_delete(*, actor, curriculum: Curriculum) -> None:
    """Refused once it was ordered: unpublish it instead."""
    _edit_check(actor, curriculum)
    try:
        curriculum.delete()
    except ProtectedError:
        # Order lines protect what they sold (receipts show it); the delete changed nothing.
        raise CurriculumHasOrders() from None

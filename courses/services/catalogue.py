"""Writing courses (with their lectures, topics and quiz questions in one go) and curriculums.

A course tree is validated as a whole and written in one transaction: an error anywhere writes
nothing. Children named by `id` are updated in place (so progress and attempts that point at
them survive), children without `id` are created, and children left out are deleted. Positions
follow the order of the lists, so they are always 0..n-1 without gaps or duplicates.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.db.models import F, ProtectedError
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError
from core.images import image_encode
from courses.models import (
    Choice,
    Course,
    Curriculum,
    CurriculumCourse,
    Lecture,
    Question,
    Topic,
    TopicType,
)
from courses.selectors.enrollments import active_enrollments

COURSE_FIELDS = (
    "title",
    "short_description",
    "description",
    "category",
    "skill_level",
    "price",
    "is_published",
)
# Positions are moved out of the way first, so that reordering never trips the unique
# (parent, position) constraints halfway through.
_POSITION_OFFSET = 30000


def _tree_errors(lectures: list[dict]) -> dict:
    """Rules that span several items of the tree; the serializers checked each item alone."""
    errors = {}
    for li, lecture in enumerate(lectures):
        for ti, topic in enumerate(lecture.get("topics", [])):
            path = f"lectures[{li}].topics[{ti}]"
            questions = topic.get("questions", [])
            if topic["type"] != TopicType.QUIZ and questions:
                errors[f"{path}.questions"] = [_("Only quiz topics have questions.")]
            if topic["type"] == TopicType.QUIZ and not questions:
                errors[f"{path}.questions"] = [_("A quiz needs at least one question.")]
            for qi, question in enumerate(questions):
                choices = question.get("choices", [])
                if len(choices) < 2:
                    errors[f"{path}.questions[{qi}].choices"] = [
                        _("A question needs at least two choices.")
                    ]
                elif not any(choice.get("is_correct") for choice in choices):
                    errors[f"{path}.questions[{qi}].choices"] = [
                        _("At least one choice must be correct.")
                    ]
    return errors


def _sync(
    *,
    model: type[models.Model],
    parent_field: str,
    parent,
    items: list[dict],
    fields: tuple[str, ...],
    path: str,
    children=None,
) -> None:
    """Make `parent`'s children of `model` exactly `items`, in order."""
    existing = {child.pk: child for child in model.objects.filter(**{parent_field: parent})}
    named = [item["id"] for item in items if item.get("id") is not None]
    unknown = [pk for pk in named if pk not in existing]
    if unknown or len(named) != len(set(named)):
        raise ValidationError({path: [_("Unknown or repeated ids: %(ids)s") % {"ids": unknown}]})
    model.objects.filter(**{parent_field: parent}).exclude(pk__in=named).delete()
    model.objects.filter(**{parent_field: parent}).update(position=F("position") + _POSITION_OFFSET)
    for position, item in enumerate(items):
        values = {field: item[field] for field in fields if field in item}
        if item.get("id") is not None:
            child = existing[item["id"]]
            for field, value in {**values, "position": position}.items():
                setattr(child, field, value)
            child.save()
        else:
            child = model.objects.create(**{parent_field: parent}, position=position, **values)
        if children:
            children(child, item, f"{path}[{position}]")


def _sync_lectures(course: Course, lectures: list[dict]) -> None:
    def choices(question, item, path):
        _sync(
            model=Choice,
            parent_field="question",
            parent=question,
            items=item.get("choices", []),
            fields=("text", "is_correct"),
            path=f"{path}.choices",
        )

    def questions(topic, item, path):
        _sync(
            model=Question,
            parent_field="topic",
            parent=topic,
            items=item.get("questions", []),
            fields=("prompt", "explanation"),
            path=f"{path}.questions",
            children=choices,
        )

    def topics(lecture, item, path):
        _sync(
            model=Topic,
            parent_field="lecture",
            parent=lecture,
            items=item.get("topics", []),
            fields=("title", "type", "is_preview", "body"),
            path=f"{path}.topics",
            children=questions,
        )

    _sync(
        model=Lecture,
        parent_field="course",
        parent=course,
        items=lectures,
        fields=("title",),
        path="lectures",
        children=topics,
    )


def course_save(*, course: Course | None = None, tutor, data: dict) -> Course:
    """Create (course=None) or update a course; `lectures`, when given, replaces the tree."""
    lectures = data.get("lectures")
    if lectures is not None and (errors := _tree_errors(lectures)):
        raise ValidationError(errors)
    with transaction.atomic():
        if course is None:
            course = Course(tutor=tutor)
        for field in COURSE_FIELDS:
            if field in data:
                setattr(course, field, data[field])
        course.save()
        if lectures is not None:
            _sync_lectures(course, lectures)
    return course


def course_thumbnail_set(*, course: Course, file: UploadedFile | None) -> Course:
    """Store a checked, re-encoded copy of `file` (core.images) as the thumbnail; None removes
    it. The previous file goes once the change is committed."""
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
        transaction.on_commit(lambda: storage.delete(previous))
    return course


def course_delete(*, course: Course) -> None:
    """Refused while anyone may study it, or once it was ordered: unpublish it instead."""
    if active_enrollments().filter(course=course).exists():
        raise ApplicationError(
            "course_has_enrollments",
            _("Learners are enrolled in this course; unpublish it instead of deleting it."),
            status.HTTP_409_CONFLICT,
        )
    try:
        course.delete()
    except ProtectedError:
        # Order lines protect what they sold (receipts show it); the delete changed nothing.
        raise ApplicationError(
            "course_has_orders",
            _("This course has been ordered; unpublish it instead of deleting it."),
            status.HTTP_409_CONFLICT,
        ) from None


def curriculum_save(
    *, curriculum: Curriculum | None = None, tutor, data: dict, courses: list[Course] | None
) -> Curriculum:
    with transaction.atomic():
        if curriculum is None:
            curriculum = Curriculum(tutor=tutor)
        for field in ("title", "description", "price", "is_published"):
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


def curriculum_delete(*, curriculum: Curriculum) -> None:
    """Refused once it was ordered: unpublish it instead."""
    try:
        curriculum.delete()
    except ProtectedError:
        # Order lines protect what they sold (receipts show it); the delete changed nothing.
        raise ApplicationError(
            "curriculum_has_orders",
            _("This curriculum has been ordered; unpublish it instead of deleting it."),
            status.HTTP_409_CONFLICT,
        ) from None

"""The whole-tree body of course writes (POST, PUT, PATCH /api/courses/). `GET
/api/courses/{id}/edit/` answers in the same shape (serializers.CourseEditSerializer), so that a
tutor's editor can load a course, change it and send it back."""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import serializers

from accounts.models import CustomUser, Role
from core.serializers import StrictCharField, StrictPrimaryKeyRelatedField
from courses.models import Category, SkillLevel, TopicType
from courses.services.course_tree import QUESTION_MAX_CHOICES, course_tree_size_errors

KEPT_WHEN_LEFT_OUT = "Left out: kept for an item with `id`, false for a new one."


class ChoiceInput(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1)
    text = StrictCharField(max_length=500)
    is_correct = serializers.BooleanField(required=False, help_text=KEPT_WHEN_LEFT_OUT)


class QuestionInput(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1)
    prompt = StrictCharField(max_length=5000)
    explanation = StrictCharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        help_text="Shown to a learner once they passed or used their last attempt.",
    )
    choices = ChoiceInput(  # type: ignore[call-arg]  # stubs lack many=True's max_length
        many=True, max_length=QUESTION_MAX_CHOICES
    )


class TopicInput(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1)
    title = StrictCharField(max_length=200)
    type = serializers.ChoiceField(choices=TopicType.choices)
    is_preview = serializers.BooleanField(required=False, help_text=KEPT_WHEN_LEFT_OUT)
    body = StrictCharField(max_length=100000, required=False, allow_blank=True)
    questions = QuestionInput(  # type: ignore[call-arg]  # stubs lack many=True's max_length
        many=True,
        required=False,
        max_length=settings.QUIZ_MAX_QUESTIONS,
        help_text="Quizzes only: at most QUIZ_MAX_QUESTIONS, and COURSE_MAX_QUESTIONS in the "
        "whole course.",
    )


class LectureInput(serializers.Serializer):
    id = serializers.IntegerField(required=False, min_value=1)
    title = StrictCharField(max_length=200)
    topics = TopicInput(  # type: ignore[call-arg]  # stubs lack many=True's max_length
        many=True,
        required=False,
        max_length=settings.COURSE_MAX_TOPICS,
        help_text="At most COURSE_MAX_TOPICS in the whole course.",
    )


class CourseInput(serializers.Serializer):
    title = StrictCharField(max_length=200)
    short_description = StrictCharField(max_length=300, required=False, allow_blank=True)
    description = StrictCharField(max_length=20000, required=False, allow_blank=True)
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    skill_level = serializers.ChoiceField(choices=SkillLevel.choices, required=False)
    price = serializers.IntegerField(min_value=0, max_value=100_000_000, required=False)
    is_published = serializers.BooleanField(required=False)
    tutor = StrictPrimaryKeyRelatedField(
        queryset=CustomUser.objects.filter(role=Role.TUTOR, is_active=True),
        required=False,
        help_text="Staff only: whose course it is (default: the caller).",
    )
    lectures = LectureInput(  # type: ignore[call-arg]  # stubs lack many=True's max_length
        many=True,
        required=False,
        max_length=settings.COURSE_MAX_LECTURES,
        help_text="The whole tree: items with `id` are kept and updated, others created, "
        "the rest deleted. At most COURSE_MAX_LECTURES lectures; a larger tree is a 400 naming "
        "the path of the list over its cap.",
    )

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)
        # Counting is cheap; validating tens of thousands of items is not.
        if size_errors := course_tree_size_errors(data.get("lectures")):
            raise serializers.ValidationError(size_errors)
        if not (self.partial and "lectures" in data):
            return super().to_internal_value(data)
        # A PATCH may leave the tree out, never half of it: nested items lose their required
        # fields under a partial root, so the tree is validated on its own, whole.
        errors: dict[str, Any] = {}
        validated: dict[str, Any] = {}
        try:
            validated = super().to_internal_value(
                {k: v for k, v in data.items() if k != "lectures"}
            )
        except serializers.ValidationError as error:
            errors.update(serializers.as_serializer_error(error))
        tree = LectureInput(many=True, data=data["lectures"])
        if tree.is_valid():
            validated["lectures"] = tree.validated_data
        else:
            detail = tree.errors  # a dict when `lectures` is not even a list
            errors["lectures"] = (
                detail.get("non_field_errors", detail) if isinstance(detail, dict) else detail
            )
        if errors:
            raise serializers.ValidationError(errors)
        return validated

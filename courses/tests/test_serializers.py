"""The catalogue's serializers render by hand (courses.serializers): each must give exactly what
DRF's own rendering of its declared fields gives, key order included, for every shape of course
(with and without a category or a thumbnail, lectures with no topics)."""

import contextlib
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.test import RequestFactory
from rest_framework import serializers

from courses.selectors.catalogue import course_list, course_tree
from courses.selectors.catalogue_sql import course_outline
from courses.serializers import (
    CategorySerializer,
    CourseDetailSerializer,
    CourseListItemSerializer,
    LectureOutlineSerializer,
    TopicOutlineSerializer,
    TutorSerializer,
)
from courses.tests.factories import CourseFactory, LectureFactory, TopicFactory

pytestmark = pytest.mark.django_db
HAND_WRITTEN = (
    CategorySerializer,
    TutorSerializer,
    CourseListItemSerializer,
    TopicOutlineSerializer,
    LectureOutlineSerializer,
    CourseDetailSerializer,
)


def drf_rendering(serializer_class, instance, context: dict) -> dict:
    """What DRF would render: the generic to_representation, nested serializers included."""
    with contextlib.ExitStack() as stack:
        for cls in HAND_WRITTEN:
            generic = serializers.ModelSerializer.to_representation
            stack.enter_context(mock.patch.object(cls, "to_representation", generic))
        return serializer_class(instance, context=context).data


@pytest.fixture(params=["plain", "categoryless", "with thumbnail"])
def course(request):
    course = CourseFactory(category=None) if request.param == "categoryless" else CourseFactory()
    if request.param == "with thumbnail":
        course.thumbnail.save("picture.webp", ContentFile(b"RIFF"), save=True)
    first = LectureFactory(course=course, position=0)
    LectureFactory(course=course, position=1)  # no topics
    TopicFactory(lecture=first, position=0, is_preview=True)
    TopicFactory(lecture=first, position=1)
    return course


@pytest.fixture
def context():
    return {"request": RequestFactory().get("/api/courses/")}


def test_a_list_item_renders_as_drf_would(course, context, user):
    listed = course_list(user=user).get(pk=course.pk)
    fast = CourseListItemSerializer(listed, context=context).data
    assert fast == drf_rendering(CourseListItemSerializer, listed, context)
    assert list(fast) == list(CourseListItemSerializer.Meta.fields)
    assert (fast["lecture_count"], fast["topic_count"]) == (2, 2)


def test_an_outline_renders_as_drf_would(course, context, user):
    tree = course_tree(user=user, course_id=course.pk)
    fast = CourseDetailSerializer(tree, context=context).data
    assert fast == drf_rendering(CourseDetailSerializer, tree, context)
    assert list(fast) == list(CourseDetailSerializer.Meta.fields)
    assert [len(lecture["topics"]) for lecture in fast["lectures"]] == [2, 0]


def test_an_outline_loads_no_topic_body_and_renders_without_a_query(
    course, user, django_assert_num_queries
):
    tree = course_tree(user=user, course_id=course.pk)
    topics = [topic for lecture in tree.lectures.all() for topic in lecture.topics.all()]
    assert topics and all("body" in topic.get_deferred_fields() for topic in topics)
    with django_assert_num_queries(0):
        CourseDetailSerializer(tree, context={}).data  # noqa: B018


def test_the_outline_from_rows_is_the_outline_from_instances(course, context, user):
    """GET /api/courses/{id}/ renders from course_outline's rows; writes answer from the tree."""
    rows = CourseDetailSerializer(course_outline(user=user, course_id=course.pk), context=context)
    tree = course_tree(user=user, course_id=course.pk)
    assert rows.data == drf_rendering(CourseDetailSerializer, tree, context)
    assert list(rows.data) == list(CourseDetailSerializer.Meta.fields)


def test_the_outline_takes_two_queries_and_no_body(course, user, django_assert_num_queries):
    with django_assert_num_queries(2) as queries:
        course_outline(user=user, course_id=course.pk)
    assert all('"body"' not in query["sql"] for query in queries.captured_queries)

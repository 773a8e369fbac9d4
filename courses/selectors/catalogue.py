"""Reads of the catalogue and of a learner's enrollments; each runs a fixed number of queries."""

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import Role
from courses.models import (
    Choice,
    Course,
    Curriculum,
    CurriculumCourse,
    Enrollment,
    Lecture,
    Question,
    Topic,
    TopicProgress,
)
from courses.selectors.enrollments import active_enrollment_per_course, course_is_visible


def course_list(*, user, mine: bool = False) -> QuerySet[Course]:
    """Published courses; with `mine`, every course the caller teaches, drafts included."""
    courses = (
        Course.objects.select_related("category", "tutor")
        .annotate(
            lecture_count=Count("lectures", distinct=True),
            topic_count=Count("lectures__topics", distinct=True),
        )
        .order_by("-created_at", "id")
    )
    if mine:
        return courses.filter(tutor=user) if user.is_authenticated else courses.none()
    return courses.filter(is_published=True)


def course_tree(*, user, course_id: int) -> Course:
    """The course with its lectures and their topics, in order (404 for another's draft)."""
    topics = Topic.objects.order_by("position")
    lectures = Lecture.objects.order_by("position").prefetch_related(
        Prefetch("topics", queryset=topics)
    )
    course = get_object_or_404(
        Course.objects.select_related("category", "tutor").prefetch_related(
            Prefetch("lectures", queryset=lectures)
        ),
        pk=course_id,
    )
    if not course_is_visible(user, course):
        raise Http404
    return course


def course_tree_for_editing(*, user, course_id: int) -> Course:
    """The course with its whole tree, answers included (five queries): 404 for another's
    draft; whether `user` may edit it is `user_can_edit_course`."""
    choices = Choice.objects.order_by("position")
    questions = Question.objects.order_by("position").prefetch_related(
        Prefetch("choices", queryset=choices)
    )
    topics = Topic.objects.order_by("position").prefetch_related(
        Prefetch("questions", queryset=questions)
    )
    lectures = Lecture.objects.order_by("position").prefetch_related(
        Prefetch("topics", queryset=topics)
    )
    course = get_object_or_404(
        Course.objects.select_related("category").prefetch_related(
            Prefetch("lectures", queryset=lectures)
        ),
        pk=course_id,
    )
    if not course_is_visible(user, course):
        raise Http404
    return course


def user_can_edit_course(user, course: Course) -> bool:
    """Staff, and the course's tutor while they are a tutor (as for writing the course)."""
    if not user.is_authenticated:
        return False
    return user.is_staff or (user.role == Role.TUTOR and course.tutor_id == user.pk)


def topic_questions(*, topic: Topic) -> QuerySet[Question]:
    choices = Choice.objects.order_by("position")
    return topic.questions.order_by("position").prefetch_related(
        Prefetch("choices", queryset=choices)
    )


def curriculum_list(*, user) -> QuerySet[Curriculum]:
    curriculums = Curriculum.objects.select_related("tutor").prefetch_related(
        Prefetch(
            "curriculumcourse_set",
            queryset=CurriculumCourse.objects.select_related("course").order_by("position"),
        )
    )
    if user.is_authenticated and user.is_staff:
        return curriculums
    if user.is_authenticated:
        return curriculums.filter(Q(is_published=True) | Q(tutor=user))
    return curriculums.filter(is_published=True)


def curriculum_get(*, user, curriculum_id: int) -> Curriculum:
    return get_object_or_404(curriculum_list(user=user), pk=curriculum_id)


def my_enrollments(*, user) -> QuerySet[Enrollment]:
    """One active enrollment per course (the grant lasting longest) with progress counts and
    the first topic not yet completed."""
    completed = TopicProgress.objects.filter(
        user=user, topic=OuterRef("pk"), completed_at__isnull=False
    )
    next_topic = (
        Topic.objects.filter(lecture__course=OuterRef("course"))
        .exclude(Exists(completed))
        .order_by("lecture__position", "position")
    )
    completed_count = (
        TopicProgress.objects.filter(
            user=user,
            completed_at__isnull=False,
            topic__lecture__course=OuterRef("course"),
        )
        .values("topic__lecture__course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    topic_count = (
        Topic.objects.filter(lecture__course=OuterRef("course"))
        .values("lecture__course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        active_enrollment_per_course(user=user)
        .select_related("course__category", "course__tutor")
        .annotate(
            topic_count=Coalesce(Subquery(topic_count, output_field=IntegerField()), 0),
            completed_count=Coalesce(Subquery(completed_count, output_field=IntegerField()), 0),
            resume_topic_id=Subquery(next_topic.values("pk")[:1]),
            resume_topic_title=Subquery(next_topic.values("title")[:1]),
        )
        .order_by("-starts_at", "id")
    )

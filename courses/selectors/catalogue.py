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

from courses.errors import TutorOrStaffOnly
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
    TopicType,
)
from courses.permissions import user_can_edit
from courses.selectors.enrollments import active_enrollment_per_course, course_is_visible

# What a list item shows (CourseListItemSerializer): not the description, nor the tutor's row.
LIST_ITEM_FIELDS = (
    *("id", "title", "short_description", "category", "skill_level", "price", "thumbnail"),
    *("tutor__id", "tutor__username", "tutor__name", "is_published", "created_at"),
)
OUTLINE_LECTURE_FIELDS = ("id", "course_id", "title", "position")
OUTLINE_TOPIC_FIELDS = ("id", "lecture_id", "title", "position", "type", "is_preview")


def course_list(*, user) -> QuerySet[Course]:
    """The courses `user` may list: the published ones and their own drafts. CourseFilter picks
    the published catalogue or, with `mine`, the caller's own."""
    visible = Q(is_published=True)
    if user.is_authenticated:
        visible |= Q(tutor=user)
    # Counted per listed course (subqueries PostgreSQL evaluates after LIMIT), not by joining
    # every lecture and topic of the catalogue and grouping before the page is cut; the page's
    # COUNT(*) then leaves them out.
    return (
        Course.objects.filter(visible)
        .select_related("category", "tutor")
        .only(*LIST_ITEM_FIELDS)
        .annotate(
            lecture_count=_count_of(Lecture.objects.filter(course=OuterRef("pk")), "course"),
            topic_count=_count_of(
                Topic.objects.filter(lecture__course=OuterRef("pk")), "lecture__course"
            ),
        )
        .order_by("-created_at", "id")
    )


def _count_of(rows: QuerySet, group_by: str) -> Coalesce:
    counted = rows.order_by().values(group_by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def course_tree(*, user, course_id: int) -> Course:
    """The course with its lectures and their topics, in order (404 for another's draft); of
    those, only what the outline shows (a topic's body may be 100,000 characters)."""
    topics = Topic.objects.order_by("position").only(*OUTLINE_TOPIC_FIELDS)
    lectures = (
        Lecture.objects.order_by("position")
        .only(*OUTLINE_LECTURE_FIELDS)
        .prefetch_related(Prefetch("topics", queryset=topics))
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
    """The course with its whole tree, answers included (five queries), for those who may edit
    it: 404 for another's draft, TutorOrStaffOnly for anyone else."""
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
    if not user_can_edit(user, course):
        raise TutorOrStaffOnly(TutorOrStaffOnly.EDIT)
    return course


def topic_content(*, topic: Topic) -> Topic:
    """A topic as its learner studies it: a quiz with its questions and their choices in order
    (`question_list`, two queries), other types with none."""
    topic.question_list = []
    if topic.type == TopicType.QUIZ:
        choices = Choice.objects.order_by("position")
        topic.question_list = list(
            topic.questions.order_by("position").prefetch_related(
                Prefetch("choices", queryset=choices)
            )
        )
    return topic


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

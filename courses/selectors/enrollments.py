"""Who may study what: the entitlement rule, in one place.

Access is the union of a user's grants (Enrollment rows): any grant that is not revoked, has
started and has not expired opens the course; the latest expiry among them is when access ends.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db.models import DateTimeField, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from courses.errors import NotEntitled
from courses.models import Course, Enrollment, Topic

# Stands for "never expires" when grants are compared by how long they last.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


def active_enrollments(*, at=None) -> QuerySet[Enrollment]:
    """Grants in force at `at` (now): not revoked, started, not expired. Several may name the
    same user and course."""
    at = at or timezone.now()
    return Enrollment.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at),
        revoked_at__isnull=True,
        starts_at__lte=at,
    )


def active_enrollment_per_course(*, user, at=None) -> QuerySet[Enrollment]:
    """One active grant per course of `user`: the one lasting longest (no expiry first, then the
    latest expiry; the oldest on a tie), so its `expires_at` is when access to the course ends.
    One query, whatever the number of grants."""
    lasting = Coalesce("expires_at", Value(NEVER, output_field=DateTimeField()))
    active = active_enrollments(at=at).filter(user=user).annotate(lasts_until=lasting)
    lasts_longer = active.filter(course=OuterRef("course")).filter(
        Q(lasts_until__gt=OuterRef("lasts_until"))
        | Q(lasts_until=OuterRef("lasts_until"), pk__lt=OuterRef("pk"))
    )
    return active.exclude(Exists(lasts_longer))


def user_can_study_course(user, course: Course) -> bool:
    """Staff, the course's tutor, or an active enrollment (bought or granted, not refunded,
    not expired)."""
    if not user.is_authenticated:
        return False
    if user.is_staff or course.tutor_id == user.pk:
        return True
    return active_enrollments().filter(user=user, course=course).exists()


def user_can_study(user, topic: Topic) -> bool:
    """As for the course, and anyone at all for a free preview topic."""
    return topic.is_preview or user_can_study_course(user, topic.lecture.course)


def topic_for_study(*, user, topic_id: int) -> Topic:
    """The topic (404 if unknown or unpublished for this user), or NotEntitled."""
    topic = Topic.objects.select_related("lecture__course").filter(pk=topic_id).first()
    if topic is None or not course_is_visible(user, topic.lecture.course):
        raise Http404
    if not user_can_study(user, topic):
        raise NotEntitled()
    return topic


def course_is_visible(user, course: Course) -> bool:
    """Published courses are public; drafts only to their tutor and staff."""
    return course.is_published or (
        user.is_authenticated and (user.is_staff or course.tutor_id == user.pk)
    )


def studyable_course_ids(*, user, course_ids: Iterable[int]) -> set[int]:
    """Which of these courses `user` may already study (their own, or an active enrollment), in
    one query: what a shop must not sell them again."""
    course_ids = set(course_ids)
    if not course_ids or not user.is_authenticated:
        return set()
    enrolled = active_enrollments().filter(user=user, course_id__in=course_ids).values("course_id")
    return set(
        Course.objects.filter(Q(tutor=user) | Q(pk__in=enrolled), pk__in=course_ids).values_list(
            "pk", flat=True
        )
    )

"""Granting and revoking the right to study; payments and staff call these."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from courses.models import Course, Curriculum, Enrollment, EnrollmentSource, Topic, TopicProgress
from courses.selectors.enrollments import active_enrollments


def enrollment_grant(
    *,
    user,
    course: Course,
    source: str = EnrollmentSource.GRANT,
    expires_at: datetime | None = None,
    reference: str = "",
) -> Enrollment:
    """Enrol, or renew an existing enrollment: it starts now and is no longer revoked."""
    now = timezone.now()
    enrollment, _created = Enrollment.objects.update_or_create(
        user=user,
        course=course,
        defaults={
            "source": source,
            "starts_at": now,
            "expires_at": expires_at,
            "revoked_at": None,
            "reference": reference,
        },
    )
    return enrollment


@transaction.atomic
def enrollment_grant_curriculum(
    *,
    user,
    curriculum: Curriculum,
    source: str = EnrollmentSource.PURCHASE,
    expires_at: datetime | None = None,
    reference: str = "",
) -> list[Enrollment]:
    """A curriculum enrols in each of its courses."""
    return [
        enrollment_grant(
            user=user, course=course, source=source, expires_at=expires_at, reference=reference
        )
        for course in curriculum.courses.all()
    ]


def enrollments_grant(
    *,
    user,
    courses: Iterable[Course],
    source: str,
    expires_at: datetime | None,
    reference: str,
) -> list[Enrollment]:
    """Enrol in many courses at once (two queries, whatever their number), e.g. for an order.

    An active enrollment that already lasts at least as long is left as it is, so a later
    refund of `reference` does not take away what the user had before.
    """
    courses = list(courses)
    now = timezone.now()
    lasts_as_long = Q(expires_at__isnull=True)
    if expires_at is not None:
        lasts_as_long |= Q(expires_at__gte=expires_at)
    kept = set(
        active_enrollments(at=now)
        .filter(lasts_as_long, user=user, course__in=courses)
        .values_list("course_id", flat=True)
    )
    enrollments = [
        Enrollment(
            user=user,
            course=course,
            source=source,
            starts_at=now,
            expires_at=expires_at,
            revoked_at=None,
            reference=reference,
        )
        for course in courses
        if course.pk not in kept
    ]
    return Enrollment.objects.bulk_create(
        enrollments,
        update_conflicts=True,
        unique_fields=("user", "course"),
        update_fields=(
            "source",
            "starts_at",
            "expires_at",
            "revoked_at",
            "reference",
            "updated_at",
        ),
    )


def enrollments_revoke(*, user, reference: str) -> int:
    """Stop every active enrollment granted under `reference` (e.g. a refunded order)."""
    return Enrollment.objects.filter(
        user=user, reference=reference, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def enrollment_revoke(*, user, course: Course) -> bool:
    """Access stops at once; progress and submissions stay for a later re-enrolment."""
    return bool(
        Enrollment.objects.filter(user=user, course=course, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )


def topic_progress_record(*, user, topic: Topic, completed: bool = False) -> TopicProgress:
    """Mark a topic opened (and completed, once): other apps report completion through this."""
    now = timezone.now()
    progress, _created = TopicProgress.objects.get_or_create(user=user, topic=topic)
    TopicProgress.objects.filter(pk=progress.pk).update(last_opened_at=now)
    if completed:
        # Conditional so that concurrent completions keep the first moment.
        TopicProgress.objects.filter(pk=progress.pk, completed_at__isnull=True).update(
            completed_at=now
        )
    progress.refresh_from_db()
    return progress

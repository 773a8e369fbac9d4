"""Granting and revoking the right to study; payments and staff call these."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from courses.models import Course, Curriculum, Enrollment, EnrollmentSource, Topic, TopicProgress


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

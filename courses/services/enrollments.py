"""Granting and revoking the right to study (payments and staff call these), and recording what
a learner studied.

Every source (an order, a staff grant, the demo) writes grants of its own and takes back only
those: access is the union of what is still held (courses.selectors.enrollments).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from courses.models import (
    Course,
    Curriculum,
    Enrollment,
    EnrollmentSource,
    Topic,
    TopicProgress,
    TopicType,
)
from courses.registry import course_access_changed


def enrollment_grant(
    *,
    user,
    course: Course,
    source: str = EnrollmentSource.GRANT,
    expires_at: datetime | None = None,
    reference: str = "",
) -> Enrollment:
    """A grant of `course` starting now. Granting again under the same non-blank `reference`
    renews that grant (starts now, not revoked, the new expiry) instead of adding one; the
    user's other grants of the course are never touched."""
    fields = {
        "source": source,
        "starts_at": timezone.now(),
        "expires_at": expires_at,
        "revoked_at": None,
    }
    course_access_changed.announce_on_commit(user_ids=[user.pk], course_ids=[course.pk])
    if not reference:
        return Enrollment.objects.create(user=user, course=course, **fields)
    enrollment, _created = Enrollment.objects.update_or_create(
        user=user, course=course, reference=reference, defaults=fields
    )
    return enrollment


def enrollments_grant(
    *,
    user,
    courses: Iterable[Course],
    source: str,
    expires_at: datetime | None,
    reference: str,
) -> list[Enrollment]:
    """Grant many courses under one source at once (one query whatever their number), e.g. what
    an order bought. Each course gets its own grant even if the user already holds it some other
    way, so that taking this source back later (`enrollments_revoke`) leaves those alone. The
    unique constraint refuses a second grant of the same source."""
    now = timezone.now()
    courses = list(courses)
    course_access_changed.announce_on_commit(
        user_ids=[user.pk], course_ids=[course.pk for course in courses]
    )
    return Enrollment.objects.bulk_create(
        Enrollment(
            user=user,
            course=course,
            source=source,
            starts_at=now,
            expires_at=expires_at,
            reference=reference,
        )
        for course in courses
    )


@transaction.atomic
def enrollment_grant_curriculum(
    *,
    user,
    curriculum: Curriculum,
    source: str = EnrollmentSource.PURCHASE,
    expires_at: datetime | None = None,
    reference: str = "",
) -> list[Enrollment]:
    """A curriculum grants each of its courses (under `reference`, if given)."""
    return [
        enrollment_grant(
            user=user, course=course, source=source, expires_at=expires_at, reference=reference
        )
        for course in curriculum.courses.all()
    ]


def enrollments_revoke(*, user, reference: str) -> int:
    """Take back one source (e.g. a refunded order): its active grants stop now; the user's
    grants from other sources, for the same courses too, keep giving access."""
    if not reference:
        raise ValueError("A blank reference names no source.")
    return _revoke(Enrollment.objects.filter(user=user, reference=reference))


def enrollments_revoke_selected(*, enrollment_ids: Iterable[int]) -> int:
    """Revoke these grants only (staff, in the admin)."""
    return _revoke(Enrollment.objects.filter(pk__in=list(enrollment_ids)))


def enrollment_revoke(*, user, course: Course) -> bool:
    """Access to `course` stops at once, whatever granted it (every active grant is revoked);
    progress and submissions stay for a later re-enrolment."""
    return bool(_revoke(Enrollment.objects.filter(user=user, course=course)))


def _revoke(enrollments) -> int:
    """Revoke the active ones among `enrollments`; who lost what is announced after commit."""
    active = enrollments.filter(revoked_at__isnull=True)
    pairs = set(active.values_list("user_id", "course_id"))
    revoked = active.update(revoked_at=timezone.now())
    if pairs:
        course_access_changed.announce_on_commit(
            user_ids=sorted({user_id for user_id, _ in pairs}),
            course_ids=sorted({course_id for _, course_id in pairs}),
        )
    return revoked


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


def topic_open(*, user, topic: Topic) -> TopicProgress:
    """The learner opened the topic (POST /api/topics/{id}/open/; reading never records
    anything). Reading an article is what completing it means; quizzes, assignments and videos
    complete when passed, submitted or watched."""
    return topic_progress_record(user=user, topic=topic, completed=topic.type == TopicType.ARTICLE)

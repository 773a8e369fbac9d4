"""Who may write the catalogue and grade, in one place: the rules as plain functions, which the
services enforce, and the DRF permission classes that let the views refuse early.

- Create courses and curriculums: tutors and staff.
- Edit or delete a course or curriculum (its tree, thumbnail, bundled courses; the editing view
  with the answers): staff, and its tutor while they are a tutor. Another's draft is 404 before
  any of this (courses.selectors.enrollments.course_is_visible).
- Whose a new course is, and which courses a curriculum may bundle, are the services' to decide
  (courses.services.catalogue: staff name any tutor and bundle any course; a tutor their own).
- Grade an assignment, see every submission of a topic, download their files: staff and the
  course's tutor.
- Study a topic: courses.selectors.enrollments.user_can_study (the entitlement rule).
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role
from courses.models import Course, Curriculum


def user_can_write_catalogue(user) -> bool:
    """Tutors and staff create courses and curriculums."""
    return bool(user.is_authenticated and (user.is_staff or user.role == Role.TUTOR))


def user_can_edit(user, item: Course | Curriculum) -> bool:
    """Staff, and the course's (curriculum's) tutor while they are a tutor."""
    if not user.is_authenticated:
        return False
    return user.is_staff or (user.role == Role.TUTOR and item.tutor_id == user.pk)


def user_can_grade(user, course: Course) -> bool:
    """The course's tutor and staff grade its assignments and see every submission."""
    return bool(user.is_authenticated and (user.is_staff or course.tutor_id == user.pk))


class IsTutorOrStaffOrReadOnly(BasePermission):
    """Anyone reads; tutors and staff write (which object: `CanEditOrReadOnly`)."""

    allows_anonymous_reads = True  # read by core.openapi to document GETs without 401/403

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or user_can_write_catalogue(request.user)


class CanEditOrReadOnly(BasePermission):
    """Writes to a course or curriculum: `user_can_edit`. Views fetch the object through a
    helper that calls `check_object_permissions`."""

    allows_anonymous_reads = True

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in SAFE_METHODS or user_can_edit(request.user, obj)

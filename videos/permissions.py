"""Who may upload and manage lecture videos: tutors and staff (a tutor their own videos, staff
any: videos.selectors.videos.video_list). Who may watch one: video_get_for_watching."""

from rest_framework.permissions import BasePermission

from accounts.models import Role


def user_can_upload_videos(user) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.role == Role.TUTOR))


class IsTutorOrStaff(BasePermission):
    def has_permission(self, request, view) -> bool:
        return user_can_upload_videos(request.user)

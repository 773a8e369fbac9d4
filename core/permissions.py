"""Permissions shared by the apps."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsStaffOrReadOnly(BasePermission):
    """Anyone reads; only staff write."""

    allows_anonymous_reads = True  # read by core.openapi to document GETs without 401/403

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)

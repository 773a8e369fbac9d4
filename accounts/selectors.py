"""Reads of the accounts domain."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.identity import email_canonical_or_none, login_canonical, username_canonical
from accounts.models import CustomUser


def user_get_by_login(*, login: str) -> CustomUser | None:
    """An email if it has an @ (usernames cannot), otherwise a username; canonical forms only."""
    canonical = login_canonical(login)
    if not canonical:
        return None
    lookup = {"email": canonical} if "@" in canonical else {"username_canonical": canonical}
    return CustomUser.objects.select_related("team").filter(**lookup).first()


def user_get_active_by_email(*, email: str) -> CustomUser | None:
    canonical = email_canonical_or_none(email)
    if canonical is None:
        return None
    return CustomUser.objects.filter(email=canonical, is_active=True).first()


def user_get(*, user_id: int) -> CustomUser:
    return get_object_or_404(CustomUser.objects.select_related("team"), pk=user_id)


def user_list() -> QuerySet[CustomUser]:
    """Filtered by accounts.filters.UserFilter in the API."""
    return CustomUser.objects.select_related("team").order_by("id")


def username_is_available(*, username: str, exclude_user: CustomUser | None = None) -> bool:
    taken = CustomUser.objects.filter(username_canonical=username_canonical(username))
    if exclude_user is not None:
        taken = taken.exclude(pk=exclude_user.pk)
    return not taken.exists()


def email_is_available(*, email: str) -> bool:
    canonical = email_canonical_or_none(email)
    return canonical is None or not CustomUser.objects.filter(email=canonical).exists()


def identity_is_available(*, field: str, value: str) -> bool:
    """Whether sign-up could take this `username` or `email` now (compared canonically)."""
    if field == "username":
        return username_is_available(username=value)
    return email_is_available(email=value)

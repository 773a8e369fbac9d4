"""Helpers shared by the accounts tests."""

from django.core import mail
from rest_framework.test import APIClient

from accounts.models import AuthSession, CustomUser


def db_state() -> tuple:
    """Everything a bad request could write: accounts, their sessions and passwords, mail."""
    users = CustomUser.objects.order_by("pk").values_list(
        "pk", "email", "username", "name", "role", "part", "team_id", "introduction", "phone",
        "is_active", "is_staff", "is_superuser", "password", "last_login", "date_joined",
    )  # fmt: skip
    sessions = AuthSession.objects.order_by("pk").values_list(
        "pk", "refresh_jti", "revoked_at", "last_used_at", "ip"
    )
    return (
        CustomUser.objects.count(),
        AuthSession.objects.count(),
        tuple(users),
        tuple(sessions),
        len(mail.outbox),
    )


def no_crash_client(client: APIClient) -> APIClient:
    """A 500 comes back as a response (and fails on its status) instead of re-raising."""
    client.raise_request_exception = False
    return client

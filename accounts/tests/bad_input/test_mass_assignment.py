"""Mass assignment: register and the profile update ignore every field the caller does not own."""

import pytest

from accounts.models import CustomUser, Role
from accounts.tests.factories import DEFAULT_PASSWORD
from core.testing import assert_error_envelope

# --- Mass assignment ---------------------------------------------------------------------------

PRIVILEGED = {
    "role-admin": ("role", "admin"),
    "role-tutor": ("role", "tutor"),
    "is-staff": ("is_staff", True),
    "is-superuser": ("is_superuser", True),
    "is-active-false": ("is_active", False),
    "id": ("id", 999_999),
    "date-joined": ("date_joined", "2000-01-01T00:00:00Z"),
    "groups": ("groups", [1]),
    "user-permissions": ("user_permissions", [1]),
}


def _assert_plain_active_student(user: CustomUser) -> None:
    user.refresh_from_db()
    assert user.role == Role.STUDENT
    assert not user.is_staff
    assert not user.is_superuser
    assert user.is_active
    assert user.pk != 999_999
    assert user.date_joined.year != 2000
    assert not user.groups.exists()
    assert not user.user_permissions.exists()


@pytest.mark.parametrize(("field", "value"), PRIVILEGED.values(), ids=PRIVILEGED.keys())
def test_register_ignores_privileged_fields(scene, field, value):
    body = {**scene.valid_body("register"), field: value}
    response = scene.send_json("register", body)
    assert response.status_code == 201, response.content
    assert response.json()["user"]["role"] == "student"
    assert response.json()["user"]["is_staff"] is False
    _assert_plain_active_student(CustomUser.objects.get(email="newcomer@example.com"))


ME_PRIVILEGED = {
    **PRIVILEGED,
    "email": ("email", "hijack@example.com"),
    "password": ("password", "Hijacked-Lantern-99"),
    "last-login": ("last_login", "2000-01-01T00:00:00Z"),
}


@pytest.mark.parametrize(("field", "value"), ME_PRIVILEGED.values(), ids=ME_PRIVILEGED.keys())
def test_profile_update_ignores_privileged_fields_email_and_password(scene, field, value):
    user = scene.user
    before_login = CustomUser.objects.get(pk=user.pk).last_login
    response = scene.auth.patch("/api/users/me/", {field: value, "name": "Changed Name"})
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "alice@example.com"
    assert response.json()["role"] == "student"
    _assert_plain_active_student(user)
    assert user.name == "Changed Name"  # the request itself was processed
    assert user.email == "alice@example.com"
    assert user.check_password(DEFAULT_PASSWORD)
    assert user.last_login == before_login
    assert_error_envelope(scene.auth.get("/api/users/"), 403, "permission_denied")

"""Staff tools in the Django admin and the demo data command."""

import pytest
from django.core.management import call_command

from accounts.models import AuthSession, CustomUser, Role, Team
from accounts.testing import client_for
from accounts.tests.factories import UserFactory


@pytest.mark.django_db
class TestUserAdmin:
    def test_changelist_searches_and_filters(self, admin_client):
        UserFactory(email="findme@example.com", role=Role.TUTOR)
        response = admin_client.get(
            "/admin/accounts/customuser/", {"q": "findme", "role__exact": "tutor"}
        )
        assert response.status_code == 200
        assert b"findme@example.com" in response.content

    def test_add_form_creates_a_user(self, admin_client):
        response = admin_client.post(
            "/admin/accounts/customuser/add/",
            {
                "email": "added@example.com",
                "username": "added",
                "role": "tutor",
                "usable_password": "true",
                "password1": "admin-added-pass-1",
                "password2": "admin-added-pass-1",
            },
        )
        assert response.status_code == 302, response.content[:2000]
        assert CustomUser.objects.get(email="added@example.com").role == "tutor"

    def test_deactivate_action_ends_sessions_at_once(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        user = UserFactory()
        client = client_for(user)
        assert client.get("/api/users/me/").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                "/admin/accounts/customuser/",
                {"action": "deactivate_users", "_selected_action": [user.pk]},
            )
        assert response.status_code == 302
        user.refresh_from_db()
        assert not user.is_active
        assert not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()
        assert client.get("/api/users/me/").status_code == 401

    def test_unticking_active_in_the_change_form_ends_sessions(
        self, admin_client, django_capture_on_commit_callbacks
    ):
        user = UserFactory()
        client = client_for(user)
        assert client.get("/api/users/me/").status_code == 200
        form = {
            "email": user.email,
            "username": user.username,
            "name": user.name,
            "role": user.role,
            "part": "",
            "team": "",
            "introduction": "",
            "phone": "",
            "is_staff": "",
            "is_superuser": "",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(f"/admin/accounts/customuser/{user.pk}/change/", form)
        assert response.status_code == 302, response.content[:3000]
        user.refresh_from_db()
        assert not user.is_active
        assert client.get("/api/users/me/").status_code == 401

    def test_session_admin_is_read_only(self, admin_client):
        client_for(UserFactory())
        session = AuthSession.objects.get()
        assert admin_client.get("/admin/accounts/authsession/").status_code == 200
        assert admin_client.get("/admin/accounts/authsession/add/").status_code == 403
        response = admin_client.post(
            f"/admin/accounts/authsession/{session.pk}/change/", {"user_agent": "x"}
        )
        assert response.status_code == 403


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_creates_every_role(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert CustomUser.objects.count() == 4
    assert Team.objects.count() == 5
    roles = sorted(CustomUser.objects.values_list("role", flat=True))
    assert roles == ["admin", "student", "student", "tutor"]
    admin = CustomUser.objects.get(role="admin")
    assert admin.is_staff and admin.is_superuser
    assert "demo-pass-1234" in capsys.readouterr().out


@pytest.mark.django_db
def test_createsuperuser_makes_a_staff_admin(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "super-user-passphrase-1")
    call_command(
        "createsuperuser", interactive=False, email="Boss@Example.com", username="boss", verbosity=0
    )
    boss = CustomUser.objects.get(username="boss")
    assert (boss.email, boss.role, boss.is_staff, boss.is_superuser) == (
        "boss@example.com",
        "admin",
        True,
        True,
    )
    assert boss.check_password("super-user-passphrase-1")

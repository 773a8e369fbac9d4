"""The caller's own profile (/api/users/me/) and the staff user directory."""

import pytest

from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, TeamFactory, UserFactory

USER_FIELDS = {
    "id",
    "email",
    "username",
    "name",
    "role",
    "part",
    "team",
    "introduction",
    "phone",
    "is_staff",
    "date_joined",
}


@pytest.mark.django_db
class TestMe:
    def test_me_returns_the_caller(self, auth_client, user):
        response = auth_client.get("/api/users/me/")
        assert response.status_code == 200
        assert response.json()["id"] == user.pk
        assert USER_FIELDS <= set(response.json())

    def test_me_accepts_the_jwt_prefix(self, api_client, user):
        pair = client_for(user).token_pair
        response = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"JWT {pair.access}")
        assert response.status_code == 200

    def test_patch_me_updates_the_profile(self, auth_client, user):
        body = {
            "name": "Renamed",
            "username": "renamed_user",
            "introduction": "Hello!",
            "phone": "+82 10-1234-5678",
        }
        response = auth_client.patch("/api/users/me/", body)
        assert response.status_code == 200
        assert response.json()["username"] == "renamed_user"
        user.refresh_from_db()
        assert (user.name, user.username, user.introduction, user.phone) == (
            "Renamed",
            "renamed_user",
            "Hello!",
            "+82 10-1234-5678",
        )

    def test_patch_me_ignores_role_staff_and_email(self, auth_client, user):
        response = auth_client.patch(
            "/api/users/me/",
            {"role": "admin", "is_staff": True, "is_superuser": True, "email": "x@example.com"},
        )
        assert response.status_code == 200
        user.refresh_from_db()
        assert (user.role, user.is_staff, user.is_superuser) == ("student", False, False)
        assert user.email != "x@example.com"

    def test_patch_me_refuses_a_taken_username(self, auth_client, user):
        UserFactory(username="taken")
        response = auth_client.patch("/api/users/me/", {"username": "Taken"})
        assert response.status_code == 400
        assert "username" in response.json()["error"]["fields"]
        user.refresh_from_db()
        assert user.username != "Taken"

    def test_patch_me_keeps_my_own_username_in_another_case(self, auth_client, user):
        response = auth_client.patch("/api/users/me/", {"username": user.username.upper()})
        assert response.status_code == 200

    def test_delete_me_deactivates_and_ends_every_session(self, api_client, user):
        client = client_for(user)
        other = client_for(user)
        response = client.delete("/api/users/me/")
        assert response.status_code == 204
        user.refresh_from_db()
        assert user.is_active is False
        assert other.get("/api/users/me/").status_code == 401
        login = api_client.post(
            "/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 401

    def test_me_needs_authentication(self, api_client):
        response = api_client.get("/api/users/me/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
class TestUserDirectory:
    def test_students_may_not_list_users(self, auth_client):
        response = auth_client.get("/api/users/")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"

    def test_staff_filter_by_role_and_search(self, staff_client):
        UserFactory(name="Kim Minji", email="minji@example.com")
        UserFactory(name="Lee Jun", role="tutor", email="jun@example.com")
        by_role = staff_client.get("/api/users/", {"role": "tutor"}).json()
        assert [u["email"] for u in by_role["results"]] == ["jun@example.com"]
        by_search = staff_client.get("/api/users/", {"search": "minji"}).json()
        assert [u["email"] for u in by_search["results"]] == ["minji@example.com"]

    def test_unknown_role_is_400(self, staff_client):
        response = staff_client.get("/api/users/", {"role": "wizard"})
        assert response.status_code == 400
        assert "role" in response.json()["error"]["fields"]

    @pytest.mark.parametrize("count", [3, 30])
    def test_user_list_runs_a_fixed_number_of_queries(
        self, staff_client, django_assert_max_num_queries, count
    ):
        team = TeamFactory()
        UserFactory.create_batch(count, team=team)
        # Authentication on a cold cache (session, user, voted polls) + count + page.
        with django_assert_max_num_queries(5):
            response = staff_client.get("/api/users/", {"page_size": 100})
        assert response.json()["count"] == count + 1

    def test_page_size_is_capped_at_100(self, staff_client):
        UserFactory.create_batch(105)
        body = staff_client.get("/api/users/", {"page_size": 500}).json()
        assert len(body["results"]) == 100
        assert body["next"] is not None

"""The auth cache: a warm /users/me/ touches no database, and every change shows at once."""

import pytest
from rest_framework import serializers

from accounts.models import CustomUser
from accounts.serializers import CurrentUserSerializer, UserSerializer
from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory, TeamFactory, UserFactory


@pytest.fixture
def warm_client(user):
    client = client_for(user)
    assert client.get("/api/users/me/").status_code == 200  # fills the cache
    return client


@pytest.mark.django_db
class TestWarmCache:
    def test_a_warm_me_runs_no_query(self, warm_client, django_assert_num_queries):
        with django_assert_num_queries(0):
            response = warm_client.get("/api/users/me/")
        assert response.status_code == 200

    def test_profile_changes_show_at_once(self, warm_client):
        warm_client.patch("/api/users/me/", {"name": "Renamed"})
        assert warm_client.get("/api/users/me/").json()["name"] == "Renamed"

    def test_team_changes_show_at_once_for_its_members(
        self, user, django_capture_on_commit_callbacks
    ):
        team = TeamFactory(name="Old name")
        user.team = team
        user.save()
        client = client_for(user)
        assert client.get("/api/users/me/").json()["team"]["name"] == "Old name"
        with django_capture_on_commit_callbacks(execute=True):
            team.name = "New name"
            team.save()
        assert client.get("/api/users/me/").json()["team"]["name"] == "New name"

    def test_losing_staff_rights_shows_at_once(self, django_capture_on_commit_callbacks):
        staff = StaffFactory()
        client = client_for(staff)
        assert client.get("/api/users/").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            demoted = CustomUser.objects.get(pk=staff.pk)
            demoted.is_staff, demoted.role = False, "student"
            demoted.save()
        assert client.get("/api/users/").status_code == 403

    def test_password_change_works_from_a_cached_user(self, warm_client, user):
        response = warm_client.post(
            "/api/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": "brand-new-passphrase-7"},
        )
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.check_password("brand-new-passphrase-7")

    def test_a_cached_user_never_holds_the_password_hash(self, warm_client, user):
        from django.core.cache import cache

        snapshot = cache.get(f"auth:user:{user.pk}")
        assert snapshot is not None
        assert user.password not in repr(snapshot)


@pytest.mark.django_db
@pytest.mark.parametrize("with_team", [True, False])
def test_hand_written_rendering_matches_drf_field_by_field(with_team):
    user = UserFactory(team=TeamFactory() if with_team else None, phone="+82 10-1111-2222")
    fast = UserSerializer(user).data
    slow = serializers.ModelSerializer.to_representation(UserSerializer(), user)
    assert fast == slow
    assert list(fast) == list(UserSerializer.Meta.fields)
    current = CurrentUserSerializer(user).data
    assert set(current) == set(CurrentUserSerializer().fields)


@pytest.mark.django_db
def test_login_warms_the_cache_for_the_first_request(api_client, user, django_assert_num_queries):
    login = api_client.post("/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    access = login.json()["access"]
    # The login response already rendered (and cached) what other apps add to the user.
    with django_assert_num_queries(0):
        first = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert first.status_code == 200
    assert first.json()["id"] == user.pk

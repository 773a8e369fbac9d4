"""The avatar: one of the user's own images, set and shown through /api/users/me/."""

import pytest

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope
from videos.models import UserAvatar
from videos.tests.factories import ImageFactory


@pytest.fixture
def me(user):
    client = client_for(user)
    assert client.get("/api/users/me/").json()["avatar"] is None  # and cached
    return client


@pytest.mark.django_db
class TestAvatar:
    def test_choosing_an_own_image_shows_at_once(self, me, user):
        image = ImageFactory(owner=user)
        response = me.patch("/api/users/me/", {"avatar": image.pk})
        assert response.status_code == 200
        url = f"http://testserver/media/{image.file.name}"  # absolute, on PUBLIC_BASE_URL
        assert response.json()["avatar"] == {"id": image.pk, "url": url}
        assert me.get("/api/users/me/").json()["avatar"]["id"] == image.pk
        assert UserAvatar.objects.get(user=user).image == image

    def test_someone_elses_image_is_refused_and_nothing_changes(self, me, user):
        foreign = ImageFactory(owner=UserFactory())
        error = assert_error_envelope(me.patch("/api/users/me/", {"avatar": foreign.pk}), 400)
        assert "avatar" in error["fields"]
        assert not UserAvatar.objects.exists()

    @pytest.mark.parametrize("value", ["x", 0, True, [1]])
    def test_a_value_that_is_not_an_id_is_400(self, me, value):
        error = assert_error_envelope(me.patch("/api/users/me/", {"avatar": value}), 400)
        assert "avatar" in error["fields"]

    def test_null_removes_it(self, me, user):
        image = ImageFactory(owner=user)
        me.patch("/api/users/me/", {"avatar": image.pk})
        assert me.patch("/api/users/me/", {"avatar": None}).json()["avatar"] is None
        assert me.get("/api/users/me/").json()["avatar"] is None

    def test_deleting_the_image_removes_the_avatar_at_once(self, me, user):
        image = ImageFactory(owner=user)
        me.patch("/api/users/me/", {"avatar": image.pk})
        assert me.delete(f"/api/images/{image.pk}/").status_code == 204
        assert me.get("/api/users/me/").json()["avatar"] is None

    def test_profile_fields_and_the_avatar_change_together(self, me, user):
        image = ImageFactory(owner=user)
        body = me.patch("/api/users/me/", {"avatar": image.pk, "name": "Pic Person"}).json()
        assert (body["name"], body["avatar"]["id"]) == ("Pic Person", image.pk)


@pytest.mark.django_db
def test_login_shows_the_avatar(api_client, user):
    image = ImageFactory(owner=user)
    UserAvatar.objects.create(user=user, image=image)
    from accounts.tests.factories import DEFAULT_PASSWORD

    body = api_client.post(
        "/api/auth/login/", {"login": user.email, "password": DEFAULT_PASSWORD}
    ).json()
    assert body["user"]["avatar"]["id"] == image.pk

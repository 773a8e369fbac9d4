"""Password change (logged in) and reset through the mailed link (logged out)."""

import re

import pytest
from django.core import mail

from accounts.models import AuthSession
from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "another-long-passphrase-42"


@pytest.mark.django_db
class TestPasswordChange:
    def test_password_change_ends_every_session_and_returns_a_new_one(self, api_client, user):
        client = client_for(user)
        other = client_for(user)

        response = client.post(
            "/api/auth/password/change/",
            {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        )

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access", "refresh"}
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert client.get("/api/users/me/").status_code == 401
        assert other.get("/api/users/me/").status_code == 401
        fresh = api_client.get("/api/users/me/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
        assert fresh.status_code == 200
        assert AuthSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (
                {"current_password": "wrong-one-entirely", "new_password": NEW_PASSWORD},
                "current_password",
            ),
            ({"current_password": DEFAULT_PASSWORD, "new_password": "short"}, "new_password"),
        ],
    )
    def test_password_change_rejects_and_changes_nothing(self, user, body, field):
        client = client_for(user)
        response = client.post("/api/auth/password/change/", body)
        assert response.status_code == 400
        assert field in response.json()["error"]["fields"]
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)
        assert client.get("/api/users/me/").status_code == 200


def reset_link_parts(message_body: str) -> tuple[str, str]:
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", message_body)
    assert match, message_body
    return match.group(1), match.group(2)


def reset_through_the_mailed_link(api_client, user, new_password: str):
    """Ask for a reset, then confirm with the link from the mail: (response, uid, token)."""
    api_client.post("/api/auth/password/reset/", {"email": user.email})
    uid, token = reset_link_parts(str(mail.outbox[-1].body))
    response = api_client.post(
        "/api/auth/password/reset/confirm/",
        {"uid": uid, "token": token, "new_password": new_password},
    )
    return response, uid, token


@pytest.mark.django_db
class TestPasswordReset:
    def test_reset_answers_the_same_whether_or_not_the_email_exists(self, api_client, user):
        known = api_client.post("/api/auth/password/reset/", {"email": user.email})
        unknown = api_client.post("/api/auth/password/reset/", {"email": "nobody@example.com"})
        assert known.status_code == unknown.status_code == 202
        assert known.content == unknown.content
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [user.email]

    def test_reset_confirm_sets_the_password_once_and_ends_all_sessions(self, api_client, user):
        client = client_for(user)

        response, uid, token = reset_through_the_mailed_link(api_client, user, NEW_PASSWORD)

        assert response.status_code == 200
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert client.get("/api/users/me/").status_code == 401
        assert not AuthSession.objects.filter(user=user, revoked_at__isnull=True).exists()
        replay = api_client.post(
            "/api/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": "yet-another-passphrase-9"},
        )
        assert replay.status_code == 400
        assert replay.json()["error"]["code"] == "invalid_reset_token"
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)

    @pytest.mark.parametrize(
        ("uid", "token"), [("garbage", "garbage"), ("MQ", "bad-token"), ("!!", "x")]
    )
    def test_reset_confirm_with_a_bad_link_is_400_and_changes_nothing(
        self, api_client, user, uid, token
    ):
        response = api_client.post(
            "/api/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": NEW_PASSWORD},
        )
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_reset_token"
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_reset_lets_a_social_only_account_choose_a_password(self, api_client, user):
        user.set_unusable_password()
        user.save()
        response, _uid, _token = reset_through_the_mailed_link(api_client, user, NEW_PASSWORD)
        assert response.status_code == 200
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)

    def test_reset_confirm_validates_the_new_password(self, api_client, user):
        response, _uid, _token = reset_through_the_mailed_link(api_client, user, "short")
        assert response.status_code == 400
        assert "new_password" in response.json()["error"]["fields"]
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

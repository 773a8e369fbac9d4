"""The rules of the user lifecycle services, called directly: who may log in, which reset links
work, which team names are free."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.auth.services import ClientInfo, auth_session_start
from accounts.errors import InvalidCredentials, InvalidResetToken, TeamExists
from accounts.models import AuthSession, RevokeReason, Team
from accounts.services import password_reset_confirm, team_create, user_authenticate, user_login
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

NEW_PASSWORD = "Quartz-Lantern-42"
CLIENT = ClientInfo(user_agent="pytest")

pytestmark = pytest.mark.django_db


# --- Login ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("login", ["Alice@Example.com", "ALICE", "alice"])
def test_the_right_password_authenticates_by_email_or_username(login):
    alice = UserFactory(email="alice@example.com", username="alice")

    assert user_authenticate(login=login, password=DEFAULT_PASSWORD) == alice


@pytest.mark.parametrize(
    ("login", "password", "active"),
    [
        ("nobody@example.com", DEFAULT_PASSWORD, True),
        ("alice@example.com", "wrong-password", True),
        ("alice@example.com", DEFAULT_PASSWORD, False),
        ("%", DEFAULT_PASSWORD, True),
        ("", DEFAULT_PASSWORD, True),
    ],
    ids=["unknown", "wrong-password", "inactive", "wildcard", "empty"],
)
def test_every_failed_login_is_the_same_invalid_credentials(login, password, active):
    UserFactory(email="alice@example.com", username="alice", is_active=active)

    with pytest.raises(InvalidCredentials) as refused:
        user_authenticate(login=login, password=password)
    assert (refused.value.code, refused.value.status) == ("invalid_credentials", 401)
    assert str(refused.value.message) == "The login or password is incorrect."


def test_a_failed_login_starts_no_session():
    user = UserFactory()

    with pytest.raises(InvalidCredentials):
        user_login(login=user.email, password="wrong-password", client=CLIENT)
    assert not AuthSession.objects.exists()
    _user, pair = user_login(login=user.email, password=DEFAULT_PASSWORD, client=CLIENT)
    assert pair.access and AuthSession.objects.filter(user=user).count() == 1


# --- Password reset ------------------------------------------------------------------------------


def reset_link(user) -> dict:
    user.refresh_from_db()
    return {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def test_a_reset_link_sets_the_password_once_and_ends_every_session():
    user = UserFactory()
    auth_session_start(user=user, client=CLIENT)
    link = reset_link(user)

    password_reset_confirm(**link, new_password=NEW_PASSWORD)

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AuthSession.objects.get(user=user).revoke_reason == RevokeReason.PASSWORD_RESET
    with pytest.raises(InvalidResetToken):
        password_reset_confirm(**link, new_password="Another-Lantern-43")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    "link",
    [
        {"uid": "!!!"},
        {"uid": "YWJj"},  # "abc"
        {"uid": urlsafe_base64_encode(b"9" * 30)},
        {"uid": urlsafe_base64_encode(b"-1")},
        {"uid": urlsafe_base64_encode(b"999999")},
        {"token": "abc-123"},
    ],
    ids=["not-base64", "not-a-number", "huge", "negative", "no-such-user", "wrong-token"],
)
def test_a_bad_reset_link_is_refused_and_changes_nothing(link):
    user = UserFactory()
    bad_link = {**reset_link(user), **link}

    with pytest.raises(InvalidResetToken) as refused:
        password_reset_confirm(**bad_link, new_password=NEW_PASSWORD)
    assert (refused.value.code, refused.value.status) == ("invalid_reset_token", 400)
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_the_reset_link_of_a_deactivated_account_is_refused():
    user = UserFactory()
    link = reset_link(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(InvalidResetToken):
        password_reset_confirm(**link, new_password=NEW_PASSWORD)


def test_a_reset_link_dies_with_the_next_login():
    user = UserFactory()
    link = reset_link(user)
    auth_session_start(user=user, client=CLIENT)  # sets last_login, which the token is bound to

    with pytest.raises(InvalidResetToken):
        password_reset_confirm(**link, new_password=NEW_PASSWORD)


# --- Teams ---------------------------------------------------------------------------------------


def test_a_team_name_is_taken_once():
    team_create(name="Team Apollo", description="First")

    with pytest.raises(TeamExists) as refused:
        team_create(name="Team Apollo")
    assert (refused.value.code, refused.value.status) == ("team_exists", 409)
    assert Team.objects.get().description == "First"

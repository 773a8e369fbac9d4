"""Argon2id itself (the other tests use a fast hasher) and the upgrade path from PBKDF2."""

import pytest
from django.contrib.auth.hashers import identify_hasher, make_password

from accounts.models import CustomUser
from accounts.tests.factories import UserFactory
from config.settings import base

REAL_HASHERS = base.PASSWORD_HASHERS


@pytest.fixture
def argon2(settings):
    settings.PASSWORD_HASHERS = REAL_HASHERS


def test_argon2_is_the_preferred_hasher_and_pbkdf2_stays_for_upgrades():
    assert REAL_HASHERS[0] == "accounts.hashers.TunedArgon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in REAL_HASHERS


@pytest.mark.django_db
@pytest.mark.usefixtures("argon2")
def test_new_passwords_are_hashed_with_argon2id_at_the_tuned_cost(settings):
    user = UserFactory()
    algorithm, variety, _version, params, _salt, _hash = user.password.split("$")
    assert (algorithm, variety) == ("argon2", "argon2id")
    assert params == (
        f"m={settings.ARGON2_MEMORY_COST_KIB},t={settings.ARGON2_TIME_COST},"
        f"p={settings.ARGON2_PARALLELISM}"
    )
    assert user.check_password("correct-horse-battery")
    assert not user.check_password("correct-horse-batterY")


@pytest.mark.django_db
@pytest.mark.usefixtures("argon2")
def test_login_rehashes_a_pbkdf2_password_with_argon2(api_client):
    user = UserFactory()
    CustomUser.objects.filter(pk=user.pk).update(
        password=make_password("legacy-passphrase-1", hasher="pbkdf2_sha256")
    )
    response = api_client.post(
        "/api/auth/login/", {"login": user.email, "password": "legacy-passphrase-1"}
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password("legacy-passphrase-1")

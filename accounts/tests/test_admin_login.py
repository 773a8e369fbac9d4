"""/admin/login/ is throttled like the API login: per client network and per account, with the
API's own counters, and a throttled attempt never reaches the password hasher."""

import pytest
from django.test import Client

from accounts.tests.factories import DEFAULT_PASSWORD, StaffFactory

ADMIN_LOGIN = "/admin/login/"


@pytest.fixture
def rates(settings):
    def set_rates(*, ip: str = "100/min", account: str = "100/min") -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                "login_ip": ip,
                "login_account": account,
            },
        }

    return set_rates


def admin_login(client: Client, email: str, password: str, **extra):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, **extra)


@pytest.mark.django_db
def test_the_right_password_after_too_many_wrong_ones_is_refused(rates):
    rates(account="5/min")
    staff = StaffFactory(email="boss@example.com")
    client = Client()
    for _ in range(5):
        assert admin_login(client, staff.email, "wrong-password").status_code == 200

    response = admin_login(client, staff.email, DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_throttled_attempt_never_checks_the_password(rates, monkeypatch):
    rates(account="1/min")
    staff = StaffFactory(email="boss@example.com")
    admin_login(Client(), staff.email, "wrong-password")
    checks = []
    monkeypatch.setattr(
        "django.contrib.auth.hashers.check_password", lambda *a, **k: checks.append(a)
    )

    assert admin_login(Client(), staff.email, DEFAULT_PASSWORD).status_code == 429
    assert checks == []


@pytest.mark.django_db
def test_one_address_is_throttled_across_accounts(rates):
    rates(ip="3/min")
    client = Client()
    for n in range(3):
        admin_login(client, f"nobody{n}@example.com", "wrong-password")

    assert admin_login(client, "someone@example.com", "wrong-password").status_code == 429


@pytest.mark.django_db
def test_api_and_admin_attempts_count_against_one_account(rates, api_client):
    """Alternating between the two login forms gains nothing; look-alike spellings neither."""
    rates(account="4/min")
    staff = StaffFactory(email="boss@example.com")
    for login in ("boss@example.com", "BOSS@example.com"):
        api_client.post("/api/auth/login/", {"login": login, "password": "x"}, format="json")
    for login in ("\uff42oss@example.com", "Boss@Example.com"):  # a full-width b, capitals
        admin_login(Client(), login, "wrong-password")

    assert admin_login(Client(), staff.email, DEFAULT_PASSWORD).status_code == 429


@pytest.mark.django_db
def test_the_login_page_and_a_good_login_still_work(rates):
    rates(account="5/min")
    staff = StaffFactory(email="boss@example.com")
    client = Client()

    assert client.get(ADMIN_LOGIN).status_code == 200
    response = admin_login(client, "Boss@Example.COM", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(staff.pk)


@pytest.mark.django_db
def test_ipv6_addresses_of_one_network_share_a_budget(rates, settings):
    rates(ip="3/min")
    for host in range(3):
        admin_login(Client(REMOTE_ADDR=f"2001:db8:1:2::{host + 1:x}"), "a@example.com", "x")

    same_network = admin_login(Client(REMOTE_ADDR="2001:db8:1:2:ffff::9"), "b@example.com", "x")
    other_network = admin_login(Client(REMOTE_ADDR="2001:db8:1:3::1"), "b@example.com", "x")

    assert same_network.status_code == 429
    assert other_network.status_code == 200

"""One canonical email and username per account: look-alike spellings neither squat, sign in
to, reset nor link another person's account, and never escape its login throttle."""

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.db import IntegrityError, transaction

from accounts.identity import (
    email_canonical,
    email_canonical_or_none,
    identity_collisions,
    username_canonical,
    username_script_problem,
)
from accounts.models import CustomUser
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

REAL_PASSWORD = "real-owner-pass-1234"
SQUATTER_PASSWORD = "squatter-pass-1234"
DOTLESS_I = "\u0131"  # ı
LONG_S = "\u017f"  # ſ
CYRILLIC_A = "\u0430"  # а


def register(api_client, *, email: str, username: str, password: str = REAL_PASSWORD):
    return api_client.post(
        "/api/auth/register/",
        {"email": email, "username": username, "password": password, "password_confirm": password},
        format="json",
    )


def login(api_client, login_value: str, password: str):
    return api_client.post(
        "/api/auth/login/", {"login": login_value, "password": password}, format="json"
    )


# --- The canonical forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Name@Mail.COM", "name@mail.com"),
        ("  name@mail.com ", "name@mail.com"),
        (f"{LONG_S}x@mail.com", "sx@mail.com"),  # NFKC: ſ is s
        ("ｎａｍｅ@ｍａｉｌ.com", "name@mail.com"),  # full-width
        ("\u212a@mail.com", "k@mail.com"),  # KELVIN SIGN
        (f"name@ma{DOTLESS_I}l.com", "name@xn--mal-kua.com"),  # another domain, in its A-label
        ("name@BÜCHER.de", "name@xn--bcher-kva.de"),
        ("name@mail.com.", "name@mail.com"),
    ],
)
def test_email_canonical_form(raw, canonical):
    assert email_canonical(raw) == canonical


@pytest.mark.parametrize(
    "raw", [f"n{DOTLESS_I}me@mail.com", "ü@mail.com", "name@", "@mail.com", "name", "a@b..c"]
)
def test_emails_without_a_canonical_form(raw):
    assert email_canonical_or_none(raw) is None


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("Admin", "admin"),
        (f"{LONG_S}x", "sx"),
        ("ＳＸ", "sx"),
        ("Straße", "strasse"),
        ("김철수", "김철수"),
    ],
)
def test_username_canonical_form(raw, canonical):
    assert username_canonical(raw) == canonical


@pytest.mark.parametrize(
    ("username", "problem"),
    [
        ("admin", None),
        ("jane.doe-2", None),
        ("김철수", None),
        ("김철수_dev", None),  # Latin with Hangul: UTS #39 highly restrictive
        ("大熊", None),
        ("Иван", None),  # Cyrillic letters that do not all look Latin
        (f"{CYRILLIC_A}dmin", "mixed_scripts"),
        ("hello_мир", "mixed_scripts"),
        ("\u03a9mega", "mixed_scripts"),  # Greek Omega + Latin
        ("асе", "confusable"),  # all Cyrillic, reads as "ace"
        ("ορο", "confusable"),  # all Greek, reads as "opo"
        ("user\u0661", "digits"),  # ARABIC-INDIC DIGIT ONE
    ],
)
def test_username_scripts(username, problem):
    assert username_script_problem(username) == problem


# --- Registration ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_look_alike_domain_does_not_block_the_real_address(api_client):
    squatter = register(api_client, email=f"name@ma{DOTLESS_I}l.com", username="squatter")
    real = register(api_client, email="name@mail.com", username="realowner")

    assert squatter.status_code == 201, squatter.content
    assert real.status_code == 201, real.content
    assert set(CustomUser.objects.values_list("email", flat=True)) == {
        "name@xn--mal-kua.com",
        "name@mail.com",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "spelling", ["NAME@MAIL.COM", "ｎａｍｅ@mail.com", "name@MAIL.com.", "name@ｍａｉｌ.ｃｏｍ"]
)
def test_another_spelling_of_a_registered_email_is_taken(api_client, spelling):
    UserFactory(email="name@mail.com", username="owner")

    response = register(api_client, email=spelling, username="newcomer")

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["email"] == [
        "An account with this email already exists."
    ]
    assert CustomUser.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", ["SX", f"{LONG_S}x", "ＳＸ", "Sx"])
def test_another_spelling_of_a_taken_username_is_taken(api_client, spelling):
    UserFactory(username="sx")

    response = register(api_client, email="new@mail.com", username=spelling)

    assert response.status_code == 400, response.content
    assert response.json()["error"]["fields"]["username"] == ["This username is taken."]


@pytest.mark.django_db
@pytest.mark.parametrize("username", [f"{CYRILLIC_A}dmin", "асе", "user\u0661"])
def test_look_alike_usernames_are_refused(api_client, username):
    response = register(api_client, email="new@mail.com", username=username)

    assert response.status_code == 400, response.content
    assert "username" in response.json()["error"]["fields"]
    assert not CustomUser.objects.exists()


@pytest.mark.django_db
def test_a_mailbox_that_is_not_ascii_is_refused(api_client):
    response = register(api_client, email=f"n{DOTLESS_I}me@mail.com", username="nime")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["email"] == ["Enter a valid email address."]


@pytest.mark.django_db
def test_stored_forms_are_canonical(api_client):
    response = register(api_client, email="Jane.Doe@BÜCHER.de", username="ＪａｎｅＤｏｅ")

    assert response.status_code == 201, response.content
    user = CustomUser.objects.get()
    assert (user.email, user.username, user.username_canonical) == (
        "jane.doe@xn--bcher-kva.de",
        "JaneDoe",
        "janedoe",
    )
    assert response.json()["user"]["email"] == "jane.doe@xn--bcher-kva.de"


# --- The database refuses duplicates whatever the write path -----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "bob@x.io"}, {"email": "BOB@x.io"}),
        ({"email": "sx@x.io"}, {"email": f"{LONG_S}x@x.io"}),
        ({"username": "sx"}, {"username": f"{LONG_S}X"}),
        ({"username": "strasse"}, {"username": "Straße"}),
    ],
)
def test_the_database_refuses_a_second_spelling(first, second):
    UserFactory(**first)
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(**second)


# --- Login, reset, throttles --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_squatters_password_does_not_open_the_real_account(api_client):
    real = UserFactory(email="name@mail.com", username="realowner")
    real.set_password(REAL_PASSWORD)
    real.save()
    squatter = register(
        api_client, email=f"name@ma{DOTLESS_I}l.com", username="squat", password=SQUATTER_PASSWORD
    )
    assert squatter.status_code == 201

    as_real_with_squatters_password = login(api_client, "name@mail.com", SQUATTER_PASSWORD)
    as_real = login(api_client, "NAME@mail.com", REAL_PASSWORD)

    assert as_real_with_squatters_password.status_code == 401
    assert as_real.status_code == 200
    assert as_real.json()["user"]["id"] == real.pk


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", [f"{LONG_S}x@mail.com", "SX@MAIL.COM", f"{LONG_S}x"])
def test_every_spelling_of_an_account_signs_into_that_account(api_client, spelling):
    owner = UserFactory(email="sx@mail.com", username="sx")

    response = login(api_client, spelling, DEFAULT_PASSWORD)

    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == owner.pk


@pytest.mark.django_db
def test_a_reset_for_the_real_address_goes_to_the_real_address(api_client):
    UserFactory(email=f"name@ma{DOTLESS_I}l.com", username="squat")
    UserFactory(email="name@mail.com", username="realowner")

    response = api_client.post(
        "/api/auth/password/reset/", {"email": "Name@Mail.com"}, format="json"
    )

    assert response.status_code == 202
    assert [message.to for message in mail.outbox] == [["name@mail.com"]]


@pytest.mark.django_db
def test_a_reset_for_a_look_alike_domain_mails_nobody_else(api_client):
    UserFactory(email="name@mail.com", username="realowner")

    api_client.post(
        "/api/auth/password/reset/", {"email": f"name@ma{DOTLESS_I}l.com"}, format="json"
    )

    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", [f"{LONG_S}x@mail.com", "SX@mail.com", "ｓｘ@mail.com"])
def test_look_alike_spellings_share_the_accounts_login_throttle(api_client, settings, spelling):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "login_account": "3/min",
            "login_ip": "100/min",
        },
    }
    UserFactory(email="sx@mail.com", username="sx")
    for _ in range(3):
        assert login(api_client, "sx@mail.com", "wrong-password").status_code == 401

    response = login(api_client, spelling, DEFAULT_PASSWORD)

    assert response.status_code == 429, response.content


@pytest.mark.django_db
def test_availability_answers_for_the_canonical_form(api_client):
    UserFactory(email="sx@mail.com", username="sx")

    by_email = api_client.get("/api/auth/availability/", {"email": f"{LONG_S}X@Mail.com"})
    by_name = api_client.get("/api/auth/availability/", {"username": f"{LONG_S}x"})

    assert by_email.json()["available"] is False
    assert by_name.json()["available"] is False


@pytest.mark.django_db
def test_django_authenticate_uses_the_canonical_email(rf):
    owner = UserFactory(email="sx@mail.com")

    assert authenticate(
        rf.post("/"), username=f"{LONG_S}X@MAIL.COM", password=DEFAULT_PASSWORD
    ) == (owner)
    assert authenticate(
        rf.post("/"), username=f"sx@ma{DOTLESS_I}l.com", password=DEFAULT_PASSWORD
    ) is (None)


@pytest.mark.django_db
def test_profile_update_to_a_look_alike_username_is_refused(auth_client, user):
    UserFactory(username="admin")

    cyrillic = auth_client.patch("/api/users/me/", {"username": f"{CYRILLIC_A}dmin"}, format="json")
    other_case = auth_client.patch("/api/users/me/", {"username": "ADMIN"}, format="json")
    own_case = auth_client.patch(
        "/api/users/me/", {"username": user.username.upper()}, format="json"
    )

    assert cyrillic.status_code == 400
    assert other_case.status_code == 400
    assert other_case.json()["error"]["fields"]["username"] == ["This username is taken."]
    assert own_case.status_code == 200, own_case.content
    user.refresh_from_db()
    assert user.username == user.username_canonical.upper()


# --- Admin ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_add_form_refuses_another_spelling_of_an_email(admin_client):
    UserFactory(email="sx@mail.com", username="sx")

    response = admin_client.post(
        "/admin/accounts/customuser/add/",
        {
            "email": f"{LONG_S}x@mail.com",
            "username": "other",
            "role": "student",
            "usable_password": "true",
            "password1": REAL_PASSWORD,
            "password2": REAL_PASSWORD,
        },
    )

    assert response.status_code == 200  # the form again, with its error
    assert "An account with this email already exists." in response.content.decode()
    assert CustomUser.objects.filter(username="other").count() == 0


# --- Migrating existing rows --------------------------------------------------------------------


def test_collisions_are_reported_by_canonical_form():
    rows = [
        (1, "sx@mail.com", "sx"),
        (2, f"{LONG_S}x@mail.com", "squat"),
        (3, "bob@x.io", "Bob"),
        (4, "robert@x.io", "BOB"),
        (5, f"name@ma{DOTLESS_I}l.com", "other"),
    ]

    assert identity_collisions(rows) == [
        "email 'sx@mail.com': #1 'sx@mail.com' 'sx', #2 'ſx@mail.com' 'squat'",
        "username 'bob': #3 'bob@x.io' 'Bob', #4 'robert@x.io' 'BOB'",
    ]

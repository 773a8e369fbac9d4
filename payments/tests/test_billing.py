"""The billing-address rows of API.md: CRUD of your own addresses, exactly one default per user
(kept by the services and by a database constraint), and input validation."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.testing import assert_error_envelope
from payments.models import BillingAddress
from payments.tests.factories import BillingAddressFactory
from payments.tests.flows import clients_of, concurrently

pytestmark = pytest.mark.django_db

ADDRESSES = "/api/billing-addresses/"
FIELDS = {
    "id",
    "name",
    "phone",
    "email",
    "country",
    "postal_code",
    "line1",
    "line2",
    "is_default",
    "created_at",
}
VALID = {"name": "Kim Minji", "line1": "1 Teheran-ro, Gangnam-gu"}
MISSING = object()


def defaults(user) -> list[int]:
    return list(
        BillingAddress.objects.filter(user=user, is_default=True).values_list("pk", flat=True)
    )


def create(client, **fields):
    return client.post(ADDRESSES, {**VALID, **fields}, format="json")


# --- POST /api/billing-addresses/ -------------------------------------------------------------


@pytest.mark.parametrize("is_default", [MISSING, False, True], ids=["unsaid", "false", "true"])
def test_the_first_address_becomes_the_default(auth_client, user, is_default):
    body = {} if is_default is MISSING else {"is_default": is_default}

    response = create(auth_client, **body)

    assert response.status_code == 201, response.content
    created = response.json()
    assert set(created) == FIELDS
    assert created["is_default"] is True
    assert defaults(user) == [created["id"]]


def test_a_created_address_is_stored_as_sent(auth_client, user):
    body = {
        "name": "Kim Minji",
        "phone": "010-1234-5678",
        "email": "minji@example.com",
        "country": "US",
        "postal_code": "94105",
        "line1": "1 Market St",
        "line2": "Suite 100",
    }

    response = auth_client.post(ADDRESSES, body, format="json")

    assert response.status_code == 201, response.content
    assert {field: response.json()[field] for field in body} == body
    stored = BillingAddress.objects.get(pk=response.json()["id"])
    assert stored.user == user
    assert {field: getattr(stored, field) for field in body} == body


def test_country_defaults_to_kr(auth_client):
    response = create(auth_client)

    assert response.status_code == 201, response.content
    assert response.json()["country"] == "KR"
    assert BillingAddress.objects.get().country == "KR"


def test_a_second_address_is_not_the_default_unless_asked(auth_client, user):
    first = create(auth_client).json()

    second = create(auth_client, name="Second")

    assert second.status_code == 201, second.content
    assert second.json()["is_default"] is False
    assert defaults(user) == [first["id"]]


def test_is_default_true_moves_the_default_and_leaves_other_users_alone(auth_client, user):
    first = create(auth_client).json()
    stranger_default = BillingAddressFactory(is_default=True)

    response = create(auth_client, name="New default", is_default=True)

    assert response.status_code == 201, response.content
    assert response.json()["is_default"] is True
    assert defaults(user) == [response.json()["id"]]
    assert BillingAddress.objects.get(pk=first["id"]).is_default is False
    assert defaults(stranger_default.user) == [stranger_default.pk]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": MISSING}, "name"),
        ({"line1": MISSING}, "line1"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"line1": None}, "line1"),
        ({"name": 12345}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"country": "kr"}, "country"),
        ({"country": "KOR"}, "country"),
        ({"country": "K"}, "country"),
        ({"country": "K1"}, "country"),
        ({"country": ""}, "country"),
        ({"name": "x" * 101}, "name"),
        ({"line1": "x" * 201}, "line1"),
        ({"line2": "x" * 201}, "line2"),
        ({"phone": "1" * 31}, "phone"),
        ({"postal_code": "1" * 21}, "postal_code"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),  # the column holds 254
        ({"is_default": "perhaps"}, "is_default"),
    ],
    ids=[
        "name-missing",
        "line1-missing",
        "name-empty",
        "name-blank",
        "line1-null",
        "name-not-a-string",
        "name-nul-byte",
        "country-lower-case",
        "country-three-letters",
        "country-one-letter",
        "country-digit",
        "country-empty",
        "name-too-long",
        "line1-too-long",
        "line2-too-long",
        "phone-too-long",
        "postal-code-too-long",
        "email-malformed",
        "email-longer-than-the-column",
        "is-default-not-a-boolean",
    ],
)
def test_invalid_input_is_400_naming_the_field_and_nothing_is_stored(
    auth_client, user, changes, field
):
    body = {**VALID, **changes}
    body = {key: value for key, value in body.items() if value is not MISSING}

    response = auth_client.post(ADDRESSES, body, format="json")

    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == [field], error
    assert not BillingAddress.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "Robert'); DROP TABLE payments_billingaddress;--",
        "' OR '1'='1",
        "김민지 서울특별시 강남구 테헤란로 1",
        "🏠 Home 🎉 집",
        "가" * 100,  # the limit counts characters, not bytes
    ],
    ids=["sql-drop", "sql-or", "hangul", "emoji", "hangul-at-max-length"],
)
def test_unusual_text_is_stored_and_returned_as_given(auth_client, user, text):
    response = create(auth_client, name=text, line1=text, line2=text)

    assert response.status_code == 201, response.content
    assert (response.json()["name"], response.json()["line1"]) == (text, text)
    stored = BillingAddress.objects.get()
    assert (stored.name, stored.line1, stored.line2) == (text, text, text)
    assert auth_client.get(f"{ADDRESSES}{stored.pk}/").json()["line2"] == text


# --- GET /api/billing-addresses/ , /{id}/ -----------------------------------------------------


def test_the_list_is_your_own_addresses_default_first_then_newest(auth_client, user):
    now = timezone.now()
    older = BillingAddressFactory(user=user, name="Older")
    default = BillingAddressFactory(user=user, name="Default", is_default=True)
    newer = BillingAddressFactory(user=user, name="Newer")
    for address, age in ((older, 3), (default, 2), (newer, 1)):
        BillingAddress.objects.filter(pk=address.pk).update(created_at=now - timedelta(days=age))
    BillingAddressFactory(name="Someone else", is_default=True)

    response = auth_client.get(ADDRESSES)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert all(set(address) == FIELDS for address in body["results"])
    assert [address["name"] for address in body["results"]] == ["Default", "Newer", "Older"]
    assert BillingAddress.objects.count() == 4


@pytest.mark.parametrize("size", [1, 10])
def test_the_list_runs_a_fixed_number_of_queries(
    auth_client, user, django_assert_max_num_queries, size
):
    BillingAddressFactory(user=user, is_default=True)
    BillingAddressFactory.create_batch(size - 1, user=user)
    # Measured: the session with its user (1) + count (1) + addresses (1).
    with django_assert_max_num_queries(3):
        body = auth_client.get(ADDRESSES, {"page_size": 100}).json()
    assert body["count"] == size


def test_detail_is_the_address(auth_client, user):
    address = BillingAddressFactory(user=user, is_default=True, email="minji@example.com")

    response = auth_client.get(f"{ADDRESSES}{address.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == FIELDS
    assert (body["id"], body["name"], body["email"], body["is_default"]) == (
        address.pk,
        address.name,
        "minji@example.com",
        True,
    )


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
@pytest.mark.parametrize("whose", ["someone-elses", "unknown"])
def test_an_address_that_is_not_yours_is_404_and_unchanged(auth_client, user, method, whose):
    theirs = BillingAddressFactory(is_default=True, name="Theirs")
    address_id = theirs.pk if whose == "someone-elses" else 999_999

    response = getattr(auth_client, method)(
        f"{ADDRESSES}{address_id}/", {"name": "Mine now"}, format="json"
    )

    assert_error_envelope(response, 404, "not_found")
    stored = BillingAddress.objects.get(pk=theirs.pk)
    assert (stored.name, stored.is_default) == ("Theirs", True)


# --- PATCH /api/billing-addresses/{id}/ -------------------------------------------------------


def test_patch_changes_only_the_given_fields(auth_client, user):
    address = BillingAddressFactory(user=user, is_default=True, line2="Apt 1")

    response = auth_client.patch(
        f"{ADDRESSES}{address.pk}/", {"line1": "2 Teheran-ro", "country": "JP"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert (body["line1"], body["country"], body["line2"], body["name"]) == (
        "2 Teheran-ro",
        "JP",
        "Apt 1",
        address.name,
    )
    stored = BillingAddress.objects.get(pk=address.pk)
    assert (stored.line1, stored.country, stored.line2, stored.is_default) == (
        "2 Teheran-ro",
        "JP",
        "Apt 1",
        True,
    )


def test_patch_is_default_true_moves_the_default(auth_client, user):
    old = BillingAddressFactory(user=user, is_default=True)
    new = BillingAddressFactory(user=user)

    response = auth_client.patch(f"{ADDRESSES}{new.pk}/", {"is_default": True}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["is_default"] is True
    assert defaults(user) == [new.pk]
    assert auth_client.get(f"{ADDRESSES}{old.pk}/").json()["is_default"] is False


def test_patch_is_default_false_on_the_default_is_400_default_required(auth_client, user):
    address = BillingAddressFactory(user=user, is_default=True)
    BillingAddressFactory(user=user)

    response = auth_client.patch(
        f"{ADDRESSES}{address.pk}/", {"is_default": False, "name": "Renamed"}, format="json"
    )

    error = assert_error_envelope(response, 400, "default_required")
    assert list(error["fields"]) == ["is_default"]
    assert defaults(user) == [address.pk]
    assert BillingAddress.objects.get(pk=address.pk).name == address.name


def test_patch_is_default_false_on_another_address_changes_nothing(auth_client, user):
    default = BillingAddressFactory(user=user, is_default=True)
    other = BillingAddressFactory(user=user)

    response = auth_client.patch(f"{ADDRESSES}{other.pk}/", {"is_default": False}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["is_default"] is False
    assert defaults(user) == [default.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"country": "kr"}, "country"),
        ({"name": ""}, "name"),
        ({"line1": "x" * 201}, "line1"),
        ({"email": "nope"}, "email"),
    ],
)
def test_patch_with_invalid_input_is_400_and_changes_nothing(auth_client, user, body, field):
    address = BillingAddressFactory(user=user, is_default=True)
    before = BillingAddress.objects.values().get(pk=address.pk)

    response = auth_client.patch(f"{ADDRESSES}{address.pk}/", body, format="json")

    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == [field]
    assert BillingAddress.objects.values().get(pk=address.pk) == before


# --- DELETE /api/billing-addresses/{id}/ ------------------------------------------------------


def test_deleting_the_default_promotes_the_newest_remaining_address(auth_client, user):
    now = timezone.now()
    # Created in this order so that the newest address has neither the highest nor lowest id.
    oldest_first = BillingAddressFactory(user=user, name="Old but first")
    newest = BillingAddressFactory(user=user, name="Newest")
    default = BillingAddressFactory(user=user, is_default=True)
    oldest_last = BillingAddressFactory(user=user, name="Old and last")
    ages = ((oldest_first, 4), (newest, 1), (default, 2), (oldest_last, 3))
    for address, age in ages:
        BillingAddress.objects.filter(pk=address.pk).update(created_at=now - timedelta(days=age))

    response = auth_client.delete(f"{ADDRESSES}{default.pk}/")

    assert response.status_code == 204
    assert not BillingAddress.objects.filter(pk=default.pk).exists()
    assert defaults(user) == [newest.pk]
    assert auth_client.get(ADDRESSES).json()["results"][0]["id"] == newest.pk


def test_deleting_the_default_when_it_is_the_newest_promotes_the_next_newest(auth_client, user):
    """The audit's case: the deleted row itself (its pk cleared by delete()) was "promoted"."""
    now = timezone.now()
    older = BillingAddressFactory(user=user, name="Older")
    newer = BillingAddressFactory(user=user, name="Newer")
    default = BillingAddressFactory(user=user, is_default=True)
    for address, age in ((older, 3), (newer, 2), (default, 1)):
        BillingAddress.objects.filter(pk=address.pk).update(created_at=now - timedelta(days=age))

    response = auth_client.delete(f"{ADDRESSES}{default.pk}/")

    assert response.status_code == 204
    assert defaults(user) == [newer.pk]
    body = auth_client.get(ADDRESSES).json()
    assert [(a["id"], a["is_default"]) for a in body["results"]] == [
        (newer.pk, True),
        (older.pk, False),
    ]


def test_deleting_another_address_keeps_the_default(auth_client, user):
    default = BillingAddressFactory(user=user, is_default=True)
    other = BillingAddressFactory(user=user)

    response = auth_client.delete(f"{ADDRESSES}{other.pk}/")

    assert response.status_code == 204
    assert list(BillingAddress.objects.values_list("pk", flat=True)) == [default.pk]
    assert defaults(user) == [default.pk]


def test_deleting_the_last_address_leaves_none(auth_client, user):
    address = BillingAddressFactory(user=user, is_default=True)

    assert auth_client.delete(f"{ADDRESSES}{address.pk}/").status_code == 204

    assert not BillingAddress.objects.exists()
    assert create(auth_client).json()["is_default"] is True  # the next one is the default again


# --- the database constraint and anonymous access --------------------------------------------


def test_the_database_refuses_a_second_default_for_one_user(user):
    first = BillingAddressFactory(user=user, is_default=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        BillingAddress.objects.create(user=user, name="Second", line1="2 Road", is_default=True)

    assert defaults(user) == [first.pk]
    BillingAddressFactory(is_default=True)  # another user's default is no conflict
    assert BillingAddress.objects.filter(is_default=True).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_addresses_all_succeed_with_exactly_one_default(user):
    """Real threads on PostgreSQL: nothing to lock existed yet, so both became the default and
    the constraint answered one of them with a 500."""
    for _round in range(3):
        BillingAddress.objects.filter(user=user).delete()
        clients = clients_of(user, 4)

        responses = concurrently(
            [partial(create, client, name=f"Address {n}") for n, client in enumerate(clients)]
        )

        assert [r.status_code for r in responses] == [201] * 4, [r.content for r in responses]
        assert sorted(r.json()["is_default"] for r in responses) == [False, False, False, True]
        assert BillingAddress.objects.filter(user=user).count() == 4
        assert len(defaults(user)) == 1


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ADDRESSES),
        ("post", ADDRESSES),
        ("get", ADDRESSES + "{}/"),
        ("patch", ADDRESSES + "{}/"),
        ("delete", ADDRESSES + "{}/"),
    ],
)
def test_anonymous_is_401(api_client, method, path):
    address = BillingAddressFactory(is_default=True)

    response = getattr(api_client, method)(path.format(address.pk), VALID, format="json")

    assert_error_envelope(response, 401, "not_authenticated")
    assert list(BillingAddress.objects.values_list("pk", "name")) == [(address.pk, address.name)]

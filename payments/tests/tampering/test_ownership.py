"""Someone else's ids reach none of their purchases, and no commerce endpoint answers without
valid credentials; the database shows that nothing changed."""

import pytest

from core.testing import assert_error_envelope
from courses.tests.factories import CourseFactory
from payments.tests.flows import commerce_rows

pytestmark = pytest.mark.django_db


def send(client, method: str, path: str, body: dict | None = None):
    """GET carries its parameters in the path; other methods send `body` as JSON."""
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body or {}, format="json")


def test_paying_for_someone_elses_order_is_404_and_starts_nothing(buyer_client, victim):
    before = commerce_rows()

    response = buyer_client.post(
        "/api/payments/", {"order": victim.order["id"], "provider": "sandbox"}, format="json"
    )

    assert_error_envelope(response, 404, "not_found")
    assert commerce_rows() == before


FOREIGN_REQUESTS = [
    pytest.param("get", "/api/payments/{pending}/", id="payment-detail"),
    pytest.param("get", "/api/payments/{paid}/", id="paid-payment-detail"),
    pytest.param("get", "/api/payments/{pending}/approve/?pg_token={pg_token}", id="approve"),
    pytest.param("get", "/api/payments/{pending}/cancel/", id="cancel-callback"),
    pytest.param("get", "/api/payments/{pending}/fail/", id="fail-callback"),
    pytest.param("post", "/api/payments/{paid}/refund/", id="refund"),
    pytest.param("get", "/api/receipts/{paid}/", id="receipt"),
    pytest.param("get", "/api/orders/{order}/", id="order-detail"),
    pytest.param("get", "/api/orders/{paid_order}/", id="paid-order-detail"),
    pytest.param("post", "/api/orders/{order}/cancel/", id="order-cancel"),
    pytest.param("delete", "/api/cart/items/{item}/", id="cart-item-delete"),
    pytest.param("get", "/api/billing-addresses/{address}/", id="address-detail"),
    pytest.param("patch", "/api/billing-addresses/{address}/", id="address-update"),
    pytest.param("delete", "/api/billing-addresses/{address}/", id="address-delete"),
]


@pytest.mark.parametrize(("method", "path"), FOREIGN_REQUESTS)
def test_someone_elses_purchase_is_404_and_nothing_changes(buyer_client, victim, method, path):
    """Even with the owner's valid pg_token: the id alone never reaches another user's rows."""
    before = commerce_rows()

    response = (
        getattr(buyer_client, method)(
            victim.format(path), {"name": "Mallory", "line1": "Elsewhere"}, format="json"
        )
        if method == "patch"
        else getattr(buyer_client, method)(victim.format(path))
    )

    assert_error_envelope(response, 404, "not_found")
    assert commerce_rows() == before


@pytest.mark.parametrize(
    "path", ["/api/orders/", "/api/receipts/", "/api/billing-addresses/", "/api/cart/"]
)
def test_lists_never_show_someone_elses_rows(buyer_client, victim, path):
    response = buyer_client.get(path)

    assert response.status_code == 200
    body = response.json()
    rows = body["items"] if path == "/api/cart/" else body["results"]
    assert rows == []
    assert (body["count"], body.get("total", 0)) == (0, 0)


def test_ordering_with_someone_elses_billing_address_is_400_and_creates_nothing(
    buyer_client, victim
):
    course = CourseFactory()
    before = commerce_rows()

    response = buyer_client.post(
        "/api/orders/",
        {"items": [{"course": course.pk}], "billing_address": victim.address},
        format="json",
    )

    error = assert_error_envelope(response, 400)
    assert list(error["fields"]) == ["billing_address"]
    assert commerce_rows() == before


EVERY_ENDPOINT = [
    ("get", "/api/cart/"),
    ("post", "/api/cart/items/"),
    ("delete", "/api/cart/items/{item}/"),
    ("get", "/api/orders/"),
    ("post", "/api/orders/"),
    ("get", "/api/orders/{order}/"),
    ("post", "/api/orders/{order}/cancel/"),
    ("get", "/api/billing-addresses/"),
    ("post", "/api/billing-addresses/"),
    ("get", "/api/billing-addresses/{address}/"),
    ("patch", "/api/billing-addresses/{address}/"),
    ("delete", "/api/billing-addresses/{address}/"),
    ("post", "/api/payments/"),
    ("get", "/api/payments/{pending}/"),
    ("get", "/api/payments/{pending}/approve/?pg_token={pg_token}"),
    ("get", "/api/payments/{pending}/cancel/"),
    ("get", "/api/payments/{pending}/fail/"),
    ("post", "/api/payments/{paid}/refund/"),
    ("get", "/api/receipts/"),
    ("get", "/api/receipts/{paid}/"),
]


@pytest.mark.parametrize("credentials", [None, "Bearer not-a-token"], ids=["none", "bad"])
def test_every_commerce_endpoint_is_401_without_valid_credentials(api_client, victim, credentials):
    if credentials:
        api_client.credentials(HTTP_AUTHORIZATION=credentials)
    body = {"order": victim.order["id"], "provider": "sandbox", "course": CourseFactory().pk}
    before = commerce_rows()

    for method, path in EVERY_ENDPOINT:
        response = send(api_client, method, victim.format(path), body)

        assert_error_envelope(response, 401)
    assert commerce_rows() == before

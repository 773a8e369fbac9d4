"""Insecure direct object references, commerce side: another user's cart items, orders, billing
addresses, payments (with the victim's own pg_token) and receipts, by id; then every list and
public detail an attacker may read, searched for the victim's rows.

The same rules as test_security_idor.py: 403/404 in the envelope, none of the victim's private
text, no row changed, and the rightful user's identical request answered.
"""

import pytest

from tests.security_cases import (
    IDOR_ARGS,
    NOT_FOUND,
    assert_idor_refused,
    assert_rightful_user_answered,
    db_rows,
    victims_private_text,
)
from tests.security_cases import idor_row as row

pytestmark = pytest.mark.django_db


MATRIX = [
    # --- cart, orders, billing addresses
    row(
        "cart-item-delete",
        ("owner", 204),
        "attacker",
        "DELETE",
        "/api/cart/items/{item}/",
        NOT_FOUND,
    ),
    row(
        "staff-cart-item-delete",
        ("staff", 204),
        "attacker",
        "DELETE",
        "/api/cart/items/{staff_item}/",
        NOT_FOUND,
    ),
    row("order-detail", ("owner", 200), "attacker", "GET", "/api/orders/{order}/", NOT_FOUND),
    row(
        "paid-order-detail",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/orders/{paid_order}/",
        NOT_FOUND,
    ),
    row(
        "order-detail-by-course-tutor",
        ("owner", 200),
        "tutor",
        "GET",
        "/api/orders/{paid_order}/",
        NOT_FOUND,
    ),
    row(
        "order-cancel", ("owner", 200), "attacker", "POST", "/api/orders/{order}/cancel/", NOT_FOUND
    ),
    row(
        "address-detail",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/billing-addresses/{address}/",
        NOT_FOUND,
    ),
    row(
        "address-by-course-tutor",
        ("owner", 200),
        "tutor",
        "GET",
        "/api/billing-addresses/{address}/",
        NOT_FOUND,
    ),
    row(
        "address-update",
        ("owner", 200),
        "attacker",
        "PATCH",
        "/api/billing-addresses/{address}/",
        NOT_FOUND,
        {"line1": "Elsewhere", "is_default": True},
    ),
    row(
        "address-delete",
        ("owner", 204),
        "attacker",
        "DELETE",
        "/api/billing-addresses/{address}/",
        NOT_FOUND,
    ),
    row(
        "staff-address-detail",
        ("staff", 200),
        "attacker",
        "GET",
        "/api/billing-addresses/{staff_address}/",
        NOT_FOUND,
    ),
    row(
        "staff-address-update",
        ("staff", 200),
        "classmate",
        "PATCH",
        "/api/billing-addresses/{staff_address}/",
        NOT_FOUND,
        {"name": "Mallory"},
    ),
    row(
        "staff-address-delete",
        ("staff", 204),
        "tutor",
        "DELETE",
        "/api/billing-addresses/{staff_address}/",
        NOT_FOUND,
    ),
    row(
        "order-with-victims-address",
        ("owner", 201),
        "attacker",
        "POST",
        "/api/orders/",
        (400, None),  # code "invalid" today, where other 400s say "validation_error"
        {"items": [{"course": "{other_course}"}], "billing_address": "{address}"},
    ),
    # --- payments and receipts
    row(
        "pay-victims-order",
        ("owner", 201),
        "attacker",
        "POST",
        "/api/payments/",
        NOT_FOUND,
        {"order": "{order}", "provider": "sandbox"},
    ),
    row("payment-detail", ("owner", 200), "attacker", "GET", "/api/payments/{pending}/", NOT_FOUND),
    row("paid-payment-detail", ("owner", 200), "tutor", "GET", "/api/payments/{paid}/", NOT_FOUND),
    row(
        "payment-approve-with-victims-pg-token",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/payments/{pending}/approve/?pg_token={pg_token}",
        NOT_FOUND,
    ),
    row(
        "payment-cancel-callback",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/payments/{pending}/cancel/",
        NOT_FOUND,
    ),
    row(
        "payment-fail-callback",
        ("owner", 200),
        "attacker",
        "GET",
        "/api/payments/{pending}/fail/",
        NOT_FOUND,
    ),
    row(
        "payment-refund",
        ("owner", 200),
        "attacker",
        "POST",
        "/api/payments/{paid}/refund/",
        NOT_FOUND,
    ),
    row(
        "payment-refund-by-course-tutor",
        ("owner", 200),
        "tutor",
        "POST",
        "/api/payments/{paid}/refund/",
        NOT_FOUND,
    ),
    row("receipt-detail", ("owner", 200), "attacker", "GET", "/api/receipts/{paid}/", NOT_FOUND),
    row(
        "receipt-by-course-tutor",
        ("owner", 200),
        "tutor",
        "GET",
        "/api/receipts/{paid}/",
        NOT_FOUND,
    ),
]


@pytest.mark.parametrize(IDOR_ARGS, MATRIX)
def test_a_victims_object_id_is_refused_shows_nothing_and_changes_nothing(
    world, actor, method, path, body, expected, legit
):
    assert_idor_refused(world, actor, method, path, body, expected)


@pytest.mark.parametrize(IDOR_ARGS, [case for case in MATRIX if case.values[-1]])
def test_the_same_request_by_the_rightful_user_is_answered_so_the_ids_are_real(
    world, actor, method, path, body, expected, legit
):
    assert_rightful_user_answered(world, method, path, body, legit)


# Lists and public details an attacker may read: 200, and none of the victim's rows in them.
LISTS = [
    pytest.param("attacker", "/api/images/", id="images"),
    pytest.param("rival", "/api/videos/", id="videos-of-a-rival-tutor"),
    pytest.param("attacker", "/api/orders/", id="orders"),
    pytest.param("tutor", "/api/orders/", id="orders-of-the-course-tutor"),
    pytest.param("attacker", "/api/receipts/", id="receipts"),
    pytest.param("attacker", "/api/billing-addresses/", id="billing-addresses"),
    pytest.param("attacker", "/api/cart/", id="cart"),
    pytest.param("attacker", "/api/auth/sessions/", id="sessions"),
    pytest.param("attacker", "/api/me/enrollments/", id="enrollments"),
    pytest.param("attacker", "/api/polls/{poll}/", id="poll-detail-my-vote"),
    pytest.param("attacker", "/api/polls/{poll}/results/", id="poll-results"),
    pytest.param("classmate", "/api/topics/{assignment}/submissions/", id="classmate-submissions"),
    pytest.param("rival", "/api/courses/?mine=true", id="courses-mine-of-a-rival"),
    pytest.param("attacker", "/api/courses/", id="courses-without-drafts"),
    pytest.param("attacker", "/api/courses/{course}/", id="course-outline"),
    pytest.param("anon", "/api/courses/{course}/", id="course-outline-anonymous"),
    pytest.param("attacker", "/api/curriculums/", id="curriculums"),
    pytest.param("attacker", "/api/users/me/", id="own-profile"),
]


@pytest.mark.parametrize(("actor", "path"), LISTS)
def test_lists_and_public_details_show_none_of_the_victims_rows(world, actor, path):
    client = world.client(actor)
    before = db_rows()
    response = client.get(world.path(path))
    assert response.status_code == 200, response.content[:300]
    for private in victims_private_text(world):
        assert private not in response.content
    body = response.json()
    if "my_vote" in body:
        assert body["my_vote"] is None
    if isinstance(body.get("results"), list) and path in (
        "/api/images/",
        "/api/videos/",
        "/api/orders/",
        "/api/receipts/",
        "/api/billing-addresses/",
        "/api/me/enrollments/",
        "/api/topics/{assignment}/submissions/",
    ):
        assert body["results"] == []
    if path == "/api/auth/sessions/":
        assert str(world.ids["owner_session"]) not in response.content.decode()
    if path == "/api/cart/":
        assert body["items"] == []
    assert db_rows() == before

"""The buyer's return trip from the provider (audit item 22): the browser lands on a frontend
route, which calls the API with its bearer token; a refused approval keeps the payment pending
while the provider can still approve it."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from core.testing import assert_error_envelope
from courses.models import Enrollment
from courses.tests.factories import CourseFactory
from payments.models import OrderEvent, OrderStatus, Payment, PaymentStatus
from payments.tests.flows import (
    PAYMENT_FIELDS,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def started(client) -> tuple[dict, str]:
    """A pending sandbox payment and where the sandbox page sends the browser on "Pay"."""
    order = order_for(client, CourseFactory(price=20000))
    payment = payment_start(client, order["id"])
    return payment, sandbox_authorise(client, payment["redirect_url"])


def test_the_default_return_trip_is_a_frontend_route_not_the_api():
    """Out of the box (`make run`, no PAYMENT_CALLBACK_BASE_URL) the provider sent the browser to
    /api/payments/..., which needs a bearer token the browser does not have: a 401 page."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PAYMENT_", "FRONTEND_", "DJANGO_", "DATABASE_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", FRONTEND_URL="https://web.test")
    code = "import django; django.setup(); from django.conf import settings as s; " + (
        "print(s.PAYMENT_CALLBACK_BASE_URL)"
    )
    run = subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "https://web.test/payments"


def test_the_browser_lands_on_the_frontend_which_approves_with_a_post(auth_client, user):
    payment, location = started(auth_client)
    payment_id = payment["payment"]["id"]

    assert location.startswith(f"{settings.PAYMENT_CALLBACK_BASE_URL}/{payment_id}/approve/?")
    assert not urlparse(location).path.startswith("/api/")

    response = auth_client.post(
        f"/api/payments/{payment_id}/approve/", {"pg_token": pg_token_of(location)}, format="json"
    )

    assert response.status_code == 200, response.content
    assert set(response.json()) == PAYMENT_FIELDS
    assert response.json()["status"] == "paid"
    assert Payment.objects.get(pk=payment_id).status == PaymentStatus.PAID
    assert Enrollment.objects.filter(user=user, revoked_at__isnull=True).count() == 1


def test_the_approve_post_needs_the_bearer_token_and_a_pg_token(auth_client, api_client):
    payment, location = started(auth_client)
    path = f"/api/payments/{payment['payment']['id']}/approve/"

    anonymous = api_client.post(path, {"pg_token": pg_token_of(location)}, format="json")
    missing = auth_client.post(path, {}, format="json")

    assert_error_envelope(anonymous, 401, "not_authenticated")
    assert "pg_token" in assert_error_envelope(missing, 400, "validation_error")["fields"]
    assert Payment.objects.get().status == PaymentStatus.PENDING


def test_the_query_string_approve_still_works(auth_client):
    payment, location = started(auth_client)

    response = auth_client.get(
        f"/api/payments/{payment['payment']['id']}/approve/", {"pg_token": pg_token_of(location)}
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "paid"


@pytest.mark.parametrize(("action", "status"), [("cancel", "cancelled"), ("fail", "failed")])
def test_the_frontend_reports_a_cancel_or_failure_with_a_post(auth_client, action, status):
    payment, _location = started(auth_client)
    payment_id = payment["payment"]["id"]
    location = sandbox_authorise(auth_client, payment["redirect_url"], action)
    assert location == f"{settings.PAYMENT_CALLBACK_BASE_URL}/{payment_id}/{action}/"

    response = auth_client.post(f"/api/payments/{payment_id}/{action}/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == status
    assert Payment.objects.get().status == status
    assert Payment.objects.get().order.status == OrderStatus.PENDING


def test_the_schema_documents_the_post_and_deprecates_the_get_calls():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    approve = paths["/api/payments/{payment_id}/approve/"]
    body = approve["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/PgTokenRequest"}
    assert {"200", "402", "409", "502"} <= set(approve["post"]["responses"])
    assert "approval_refused" in approve["post"]["responses"]["402"]["description"]
    assert approve["get"]["deprecated"] is True and not approve["post"].get("deprecated")
    for action in ("cancel", "fail"):
        operations = paths[f"/api/payments/{{payment_id}}/{action}/"]
        assert operations["get"]["deprecated"] is True
        assert not operations["post"].get("deprecated")


def test_a_wrong_pg_token_is_402_and_keeps_the_payment_pending(auth_client, user):
    payment, location = started(auth_client)
    payment_id = payment["payment"]["id"]
    path = f"/api/payments/{payment_id}/approve/"

    refused = auth_client.post(path, {"pg_token": "f" * 20}, format="json")

    assert_error_envelope(refused, 402, "approval_refused")
    stored = Payment.objects.get()
    assert (stored.status, stored.failure_code, stored.order.status) == ("pending", "", "pending")
    [event] = OrderEvent.objects.filter(type="approval_refused")
    assert event.data == {"payment": payment_id, "code": "invalid_pg_token"}
    assert not Enrollment.objects.filter(user=user).exists()

    paid = auth_client.post(path, {"pg_token": pg_token_of(location)}, format="json")

    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "paid"

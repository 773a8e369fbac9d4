"""Steps of a purchase through the API (and orders written straight to the database), shared by
the payments tests."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlparse

from django.db.models import Model
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.testing import client_for
from core.testing import CommittingAPIClient, on_own_connection
from courses.models import Course, Enrollment
from payments.models import (
    BillingAddress,
    CartItem,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    SandboxTransaction,
)

ORDERS = "/api/orders/"

PAYMENT_FIELDS = {
    "id",
    "order",
    "provider",
    "status",
    "amount",
    "method",
    "transaction_id",
    "failure_code",
    "failure_message",
    "created_at",
    "approved_at",
    "refunded_at",
    "refundable_until",
}

ORDER_FIELDS = {
    "id",
    "status",
    "total",
    "currency",
    "lines",
    "billing_address",
    "created_at",
    "expires_at",
    "paid_at",
    "closed_at",
}


def items(*products) -> dict:
    """An order body naming these courses and curriculums, in order."""
    return {
        "items": [
            {"course" if isinstance(product, Course) else "curriculum": product.pk}
            for product in products
        ]
    }


def place(client: APIClient, body, **headers):
    """POST /api/orders/ with `body`, whatever the answer."""
    return client.post(ORDERS, body, format="json", **headers)


def order_for(client: APIClient, *courses, **body) -> dict:
    body = body or {"items": [{"course": course.pk} for course in courses]}
    response = client.post("/api/orders/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def payment_start(client: APIClient, order_id: int, provider: str = "sandbox") -> dict:
    response = client.post(
        "/api/payments/", {"order": order_id, "provider": provider}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def sandbox_authorise(client: APIClient, redirect_url: str, action: str = "approve") -> str:
    """Do what the buyer does on the sandbox page; returns where it sends the browser."""
    path = urlparse(redirect_url).path
    response = client.get(path, {"action": action})
    assert response.status_code == 302, response.content
    return response["Location"]


def pg_token_of(location: str) -> str:
    return parse_qs(urlparse(location).query)["pg_token"][0]


def approve(client: APIClient, payment_id: int, pg_token: str):
    """What the frontend's approval route does with the pg_token the provider handed it."""
    return client.post(
        f"/api/payments/{payment_id}/approve/", {"pg_token": pg_token}, format="json"
    )


def started_payment(client: APIClient, *courses) -> tuple[dict, dict, str]:
    """An order for `courses` with a sandbox payment waiting for approval, and its pg_token."""
    order = order_for(client, *courses)
    started = payment_start(client, order["id"])
    return order, started, pg_token_of(sandbox_authorise(client, started["redirect_url"]))


def buy_with_sandbox(client: APIClient, *courses) -> dict:
    """Order the courses, pay with the sandbox and approve: returns the paid payment's JSON."""
    order = order_for(client, *courses)
    started = payment_start(client, order["id"])
    token = pg_token_of(sandbox_authorise(client, started["redirect_url"]))
    response = approve(client, started["payment"]["id"], token)
    assert response.status_code == 200, response.content
    return response.json()


def clients_of(user, count: int) -> list[CommittingAPIClient]:
    """`count` clients holding one session's token, each for one thread; a crash is a 500."""
    access = client_for(user).token_pair.access
    clients = []
    for _ in range(count):
        client = CommittingAPIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        clients.append(client)
    return clients


def concurrently(requests: list[Callable]) -> list:
    """Start every request at the same moment, each in its own thread and DB connection."""
    barrier = threading.Barrier(len(requests))

    @on_own_connection
    def run(request):
        barrier.wait(timeout=10)
        return request()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def stored_order(user, *products, status=OrderStatus.CANCELLED) -> Order:
    """An order written straight to the database, in any state (the constraints still hold)."""
    now = timezone.now()
    settled = status in (OrderStatus.PAID, OrderStatus.REFUNDED)
    order = Order.objects.create(
        user=user,
        status=status,
        total=sum(product.price for product in products),
        paid_at=now if settled else None,
        closed_at=None if status in (OrderStatus.PENDING, OrderStatus.PAID) else now,
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            course=product if isinstance(product, Course) else None,
            curriculum=None if isinstance(product, Course) else product,
            title=product.title,
            price=product.price,
        )
        for product in products
    )
    return order


def commerce_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row a request to the commerce API could change, field by field."""
    models: tuple[type[Model], ...] = (
        Order,
        OrderLine,
        OrderEvent,
        Payment,
        SandboxTransaction,
        Enrollment,
        CartItem,
        BillingAddress,
        Course,
    )
    return {
        model.__name__: list(model._default_manager.order_by("pk").values()) for model in models
    }

"""The order state machine itself (services.orders.order_transition), without HTTP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.tests.factories import CourseFactory
from payments.errors import InvalidOrderState, OrderChanged
from payments.models import Order, OrderEvent, OrderStatus
from payments.services.orders import order_transition
from payments.tests.flows import stored_order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (OrderStatus.CANCELLED, OrderStatus.PAID),
        (OrderStatus.CANCELLED, OrderStatus.PENDING),
        (OrderStatus.FAILED, OrderStatus.PAID),
        (OrderStatus.REFUNDED, OrderStatus.PAID),
        (OrderStatus.REFUNDED, OrderStatus.CANCELLED),
        (OrderStatus.PAID, OrderStatus.CANCELLED),
        (OrderStatus.PAID, OrderStatus.FAILED),
        (OrderStatus.PAID, OrderStatus.PAID),
        (OrderStatus.PAID, OrderStatus.PENDING),
        (OrderStatus.PENDING, OrderStatus.REFUNDED),
        (OrderStatus.PENDING, OrderStatus.PENDING),
    ],
)
def test_a_move_the_state_machine_forbids_is_409_and_changes_nothing(user, start, to):
    order = stored_order(user, CourseFactory(), status=start)
    before = Order.objects.values().get(pk=order.pk)

    with pytest.raises(InvalidOrderState) as raised:
        order_transition(order=order, to=to, actor=user, event="test")

    assert (raised.value.status_code, raised.value.code) == (409, "invalid_order_state")
    assert Order.objects.values().get(pk=order.pk) == before
    assert order.status == start
    assert not OrderEvent.objects.exists()


@pytest.mark.parametrize(
    ("start", "to", "stamped"),
    [
        (OrderStatus.PENDING, OrderStatus.PAID, "paid_at"),
        (OrderStatus.PENDING, OrderStatus.CANCELLED, "closed_at"),
        (OrderStatus.PENDING, OrderStatus.FAILED, "closed_at"),
        (OrderStatus.PAID, OrderStatus.REFUNDED, "closed_at"),
    ],
)
def test_an_allowed_move_changes_the_row_and_records_an_event(user, start, to, stamped):
    order = stored_order(user, CourseFactory(), status=start)
    assert getattr(order, stamped) is None

    order_transition(order=order, to=to, actor=user, event="moved", note="x")

    stored = Order.objects.get(pk=order.pk)
    assert stored.status == to
    assert getattr(stored, stamped) is not None
    event = OrderEvent.objects.get()
    assert (event.order, event.type, event.from_status, event.to_status, event.actor) == (
        stored,
        "moved",
        start,
        to,
        user,
    )
    assert event.data == {"note": "x"}


def test_a_stale_order_is_409_order_changed_and_the_newer_state_wins(user):
    order = stored_order(user, CourseFactory(), status=OrderStatus.PENDING)
    closed_at = timezone.now() - timedelta(minutes=1)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCELLED, closed_at=closed_at)

    with pytest.raises(OrderChanged) as raised:
        order_transition(order=order, to=OrderStatus.PAID, actor=user, event="paid")

    assert (raised.value.status_code, raised.value.code) == (409, "order_changed")
    stored = Order.objects.get(pk=order.pk)
    assert (stored.status, stored.paid_at, stored.closed_at) == (
        OrderStatus.CANCELLED,
        None,
        closed_at,
    )
    assert not OrderEvent.objects.exists()

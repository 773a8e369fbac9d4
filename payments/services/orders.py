"""Orders: a price snapshot of what is bought, moved through its states by compare-and-set."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError
from courses.models import Course, Curriculum
from payments.models import (
    ORDER_TRANSITIONS,
    BillingAddress,
    CartItem,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from payments.services.products import (
    ProductRef,
    product_course_ids,
    products_check_not_owned,
    products_for_sale,
)

BILLING_SNAPSHOT_FIELDS = ("name", "phone", "email", "country", "postal_code", "line1", "line2")


def order_event(*, order: Order, type: str, actor=None, from_status="", to_status="", **data):
    return OrderEvent.objects.create(
        order=order,
        type=type,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        data=data,
    )


def order_transition(*, order: Order, to: str, actor=None, event: str, **data) -> Order:
    """Move `order` to `to` if the state machine allows it and nobody moved it first."""
    if to not in ORDER_TRANSITIONS[order.status]:
        raise ApplicationError(
            "invalid_order_state",
            _("This order is %(status)s and cannot become %(to)s.")
            % {"status": order.get_status_display(), "to": OrderStatus(to).label},
            status.HTTP_409_CONFLICT,
        )
    now = timezone.now()
    changes = {"status": to, "updated_at": now}
    if to == OrderStatus.PAID:
        changes["paid_at"] = now
    else:
        changes["closed_at"] = now
    if not Order.objects.filter(pk=order.pk, status=order.status).update(**changes):
        raise ApplicationError(
            "order_changed",
            _("This order was changed by another request. Reload it and try again."),
            status.HTTP_409_CONFLICT,
        )
    from_status = order.status
    for field, value in changes.items():
        setattr(order, field, value)
    order_event(order=order, type=event, actor=actor, from_status=from_status, to_status=to, **data)
    return order


def _billing_snapshot(*, user, billing_address_id: int | None) -> dict | None:
    addresses = BillingAddress.objects.filter(user=user)
    if billing_address_id is None:
        address = addresses.filter(is_default=True).first()
    else:
        address = addresses.filter(pk=billing_address_id).first()
        if address is None:
            raise ValidationError({"billing_address": [_("Not one of your billing addresses.")]})
    if address is None:
        return None
    return {
        "id": address.pk,
        **{field: getattr(address, field) for field in BILLING_SNAPSHOT_FIELDS},
    }


def _cancel_pending_payments(*, order: Order) -> None:
    Payment.objects.filter(order=order, status=PaymentStatus.PENDING).update(
        status=PaymentStatus.CANCELLED, updated_at=timezone.now()
    )


def _supersede_pending_orders(*, user) -> None:
    """One pending order per user: a new order cancels the previous one."""
    for order in Order.objects.select_for_update().filter(user=user, status=OrderStatus.PENDING):
        _cancel_pending_payments(order=order)
        order_transition(order=order, to=OrderStatus.CANCELLED, actor=user, event="superseded")


def order_create(
    *,
    user,
    from_cart: bool = False,
    items: list[ProductRef] | None = None,
    billing_address_id: int | None = None,
) -> Order:
    """An order for the cart's items or the given ones, priced now; the previous pending order
    is cancelled. 409 `already_owned`, 400 `not_for_sale`, `empty_order`, `order_limit_exceeded`."""
    if from_cart:
        items = [
            ProductRef(course_id=item.course_id, curriculum_id=item.curriculum_id)
            for item in CartItem.objects.filter(user=user)
        ]
        field_prefix = "cart"
    else:
        field_prefix = "items"
    if not items:
        raise ApplicationError(
            "empty_order",
            _("Your cart is empty.") if from_cart else _("Add at least one item."),
            fields={} if from_cart else {"items": [_("Add at least one item.")]},
        )
    products = products_for_sale(items, field_prefix=field_prefix)
    course_sets = [product_course_ids(product) for product in products]
    for index, course_ids in enumerate(course_sets):
        if any(course_ids & other for other in course_sets[:index]):
            raise ApplicationError(
                "duplicate_item",
                _("An item is listed twice, or is part of a curriculum in the same order."),
                fields={f"{field_prefix}[{index}]": [_("Duplicate.")]},
            )
    products_check_not_owned(user=user, products=products)
    total = sum(product.price for product in products)
    if settings.ORDER_MAX_TOTAL and total > settings.ORDER_MAX_TOTAL:
        raise ApplicationError(
            "order_limit_exceeded",
            _("An order may total at most %(limit)s KRW; this one is %(total)s KRW.")
            % {"limit": f"{settings.ORDER_MAX_TOTAL:,}", "total": f"{total:,}"},
        )
    billing = _billing_snapshot(user=user, billing_address_id=billing_address_id)
    try:
        with transaction.atomic():
            _supersede_pending_orders(user=user)
            # Again under the lock: a payment of the old order may have been approved (and its
            # courses granted) while this request waited for it.
            products_check_not_owned(user=user, products=products)
            order = Order.objects.create(user=user, total=total, billing_address=billing)
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    course=product if isinstance(product, Course) else None,
                    curriculum=product if isinstance(product, Curriculum) else None,
                    title=product.title,
                    price=product.price,
                )
                for product in products
            )
            order_event(
                order=order, type="created", actor=user, to_status=order.status, total=total
            )
    except IntegrityError as exc:  # a concurrent request created the pending order first
        raise ApplicationError(
            "order_in_progress",
            _("Another order is being created. Try again."),
            status.HTTP_409_CONFLICT,
        ) from exc
    return order


def order_for_update(*, user, order_id: int) -> Order:
    """The caller's order, locked; anyone else's is 404."""
    order = Order.objects.select_for_update().filter(user=user, pk=order_id).first()
    if order is None:
        raise Http404
    return order


@transaction.atomic
def order_cancel(*, user, order_id: int) -> Order:
    order = order_for_update(user=user, order_id=order_id)
    if order.status != OrderStatus.PENDING:
        raise ApplicationError(
            "order_not_cancellable",
            _("Only an order waiting for payment can be cancelled."),
            status.HTTP_409_CONFLICT,
        )
    _cancel_pending_payments(order=order)
    return order_transition(order=order, to=OrderStatus.CANCELLED, actor=user, event="cancelled")

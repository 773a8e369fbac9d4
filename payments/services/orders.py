"""Orders: a price snapshot of what is bought, moved through its states by compare-and-set.

A pending order is payable until `Order.expires_at` (ORDER_PENDING_TTL after it was placed):
whatever uses it checks that under its row lock and closes it as `expired` once past, and
`orders_expire` (a purger run by `manage.py purge_expired`) closes the ones nobody came back to.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course, Curriculum
from payments.errors import (
    DuplicateItem,
    EmptyOrder,
    InvalidOrderState,
    OrderChanged,
    OrderExpired,
    OrderInProgress,
    OrderLimitExceeded,
    OrderNotCancellable,
    OrderNotFound,
    PriceChanged,
)
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
from payments.selectors import order_get
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
        raise InvalidOrderState(status=order.get_status_display(), to=OrderStatus(to).label)
    now = timezone.now()
    changes = {"status": to, "updated_at": now}
    if to == OrderStatus.PAID:
        changes["paid_at"] = now
    else:
        changes["closed_at"] = now
    if not Order.objects.filter(pk=order.pk, status=order.status).update(**changes):
        raise OrderChanged()
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


def order_is_expired(order: Order, *, at=None) -> bool:
    return order.status == OrderStatus.PENDING and (at or timezone.now()) >= order.expires_at


def order_expire(*, order: Order, actor=None) -> Order:
    """Close a pending order (locked by the caller) as expired; its unfinished payments are
    cancelled."""
    _cancel_pending_payments(order=order)
    return order_transition(
        order=order, to=OrderStatus.EXPIRED, actor=actor, event="expired", at=str(order.expires_at)
    )


def order_expire_if_due(*, order: Order, actor=None) -> bool:
    """Under the order's row lock: whether the order has expired, closing it as expired now if it
    is pending past its expiry. The caller commits that and then raises OrderExpired."""
    if order_is_expired(order):
        order_expire(order=order, actor=actor)
    return order.status == OrderStatus.EXPIRED


def orders_expire(*, now=None, batch_size: int = 500) -> int:
    """Close every pending order past its expiry whose payments can no longer be approved (none
    started within PAYMENT_APPROVAL_WINDOW); returns how many. A purger of core.registry
    (`manage.py purge_expired`): idempotent, `batch_size` orders read at a time, each closed in
    its own transaction; an order being paid right now is locked and skipped (a later run finds
    it, if it is still pending)."""
    now = now or timezone.now()
    still_approvable = Payment.objects.filter(
        status=PaymentStatus.PENDING,
        created_at__gt=now - timedelta(seconds=settings.PAYMENT_APPROVAL_WINDOW),
    )
    due = (
        Order.objects.filter(
            status=OrderStatus.PENDING,
            created_at__lte=now - timedelta(seconds=settings.ORDER_PENDING_TTL),
        )
        .exclude(pk__in=still_approvable.values("order_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    expired, after = 0, 0
    while batch := list(due.filter(pk__gt=after)[:batch_size]):
        after = batch[-1]
        for order_id in batch:
            with transaction.atomic():
                order = (
                    Order.objects.select_for_update(skip_locked=True).filter(pk=order_id).first()
                )
                if order is None or not order_is_expired(order, at=now):
                    continue
                if still_approvable.filter(order=order).exists():
                    continue  # a payment was started after the query above
                order_expire(order=order)
                expired += 1
    return expired


def _supersede_pending_orders(*, user) -> None:
    """One pending order per user: a new order closes the previous one (as expired if it was)."""
    for order in Order.objects.select_for_update().filter(user=user, status=OrderStatus.PENDING):
        if order_is_expired(order):
            order_expire(order=order, actor=user)
            continue
        _cancel_pending_payments(order=order)
        order_transition(order=order, to=OrderStatus.CANCELLED, actor=user, event="superseded")


def order_create(
    *,
    user,
    from_cart: bool = False,
    items: list[ProductRef] | None = None,
    billing_address_id: int | None = None,
) -> Order:
    """An order for the cart's items or the given ones, priced now (as `order_get` reads it); the
    previous pending order is cancelled."""
    if from_cart:
        items = [
            ProductRef(course_id=item.course_id, curriculum_id=item.curriculum_id)
            for item in CartItem.objects.filter(user=user)
        ]
        field_prefix = "cart"
    else:
        field_prefix = "items"
    if not items:
        if from_cart:  # no field error: the cart is not part of the request
            raise EmptyOrder(EmptyOrder.EMPTY_CART, fields={})
        raise EmptyOrder()
    products = products_for_sale(items, field_prefix=field_prefix)
    course_sets = [product_course_ids(product) for product in products]
    for index, course_ids in enumerate(course_sets):
        if any(course_ids & other for other in course_sets[:index]):
            raise DuplicateItem(fields={f"{field_prefix}[{index}]": [_("Duplicate.")]})
    products_check_not_owned(user=user, products=products)
    total = sum(product.price for product in products)
    if settings.ORDER_MAX_TOTAL and total > settings.ORDER_MAX_TOTAL:
        raise OrderLimitExceeded(limit=f"{settings.ORDER_MAX_TOTAL:,}", total=f"{total:,}")
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
        raise OrderInProgress() from exc
    return order_get(user=user, order_id=order.pk)


def order_for_update(*, user, order_id: int) -> Order:
    """The caller's order, locked; anyone else's is not found."""
    order = Order.objects.select_for_update().filter(user=user, pk=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_cancel(*, user, order_id: int) -> Order:
    """Cancel a pending order and its unfinished payments; returns it as `order_get` reads it.
    Once past its expiry it is closed as expired instead (committed), and OrderExpired raised."""
    with transaction.atomic():
        order = order_for_update(user=user, order_id=order_id)
        expired = order_expire_if_due(order=order, actor=user)
        if not expired:
            if order.status != OrderStatus.PENDING:
                raise OrderNotCancellable()
            _cancel_pending_payments(order=order)
            order_transition(order=order, to=OrderStatus.CANCELLED, actor=user, event="cancelled")
    if expired:
        raise OrderExpired()
    return order_get(user=user, order_id=order_id)


def order_check_still_for_sale(*, order: Order) -> list[OrderLine]:
    """Every line of `order` is still for sale at the price it was ordered at: NotForSale naming
    the lines that are not (unpublished, free, emptied), or PriceChanged with the current prices
    and total in `fields` (`total`, `lines[i].price`) so the buyer can order again at those.
    Returns the lines."""
    lines = list(order.lines.all())
    products = products_for_sale(
        [ProductRef(course_id=line.course_id, curriculum_id=line.curriculum_id) for line in lines],
        field_prefix="lines",
    )
    changed = {
        f"lines[{index}].price": [str(product.price)]
        for index, (line, product) in enumerate(zip(lines, products, strict=True))
        if product.price != line.price
    }
    if changed:
        total = sum(product.price for product in products)
        raise PriceChanged(total=f"{total:,}", fields={"total": [str(total)], **changed})
    return lines

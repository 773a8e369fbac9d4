"""Reads for the cart, orders, payments, receipts and billing addresses, scoped to their owner."""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from payments.models import (
    BillingAddress,
    CartItem,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentStatus,
)


@dataclass(frozen=True)
class Cart:
    items: list[CartItem]
    count: int
    total: int  # KRW, at today's prices


def cart_get(*, user) -> Cart:
    """The user's cart totalled at the products' current prices (not those when added)."""
    items = list(CartItem.objects.filter(user=user).select_related("course", "curriculum"))
    return Cart(items=items, count=len(items), total=sum(item.product.price for item in items))


def order_list(*, user) -> QuerySet[Order]:
    return Order.objects.filter(user=user).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def order_get(*, user, order_id: int) -> Order:
    order = (
        order_list(user=user)
        .prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
            Prefetch("payments", queryset=Payment.objects.order_by("created_at", "id")),
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise Http404
    return order


def payment_get(*, user, payment_id: int) -> Payment:
    payment = Payment.objects.filter(user=user, pk=payment_id).select_related("order").first()
    if payment is None:
        raise Http404
    return payment


def receipt_list(*, user) -> QuerySet[Payment]:
    """Payments that took money: paid, or paid and refunded."""
    return (
        Payment.objects.filter(user=user, status__in=(PaymentStatus.PAID, PaymentStatus.REFUNDED))
        .select_related("order")
        .prefetch_related(Prefetch("order__lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-approved_at", "-id")
    )


def receipt_get(*, user, payment_id: int) -> Payment:
    receipt = receipt_list(user=user).filter(pk=payment_id).first()
    if receipt is None:
        raise Http404
    return receipt


def billing_address_list(*, user) -> QuerySet[BillingAddress]:
    return BillingAddress.objects.filter(user=user)


def billing_address_get(*, user, address_id: int) -> BillingAddress:
    address = billing_address_list(user=user).filter(pk=address_id).first()
    if address is None:
        raise Http404
    return address

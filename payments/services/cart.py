"""The cart: one list of products per user, totalled on the server."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from core.exceptions import ApplicationError
from courses.models import Course, Curriculum
from payments.models import CartItem
from payments.services.products import (
    ProductRef,
    product_course_ids,
    products_check_not_owned,
    products_for_sale,
)


def _already_in_cart() -> ApplicationError:
    return ApplicationError(
        "already_in_cart", _("This item is already in your cart."), status.HTTP_409_CONFLICT
    )


def _check_orderable(*, item: Course | Curriculum, total: int) -> None:
    """400 `order_limit_exceeded` for an item the cart could never be ordered with: its price
    alone, or the cart's total with it, passes ORDER_MAX_TOTAL."""
    limit = settings.ORDER_MAX_TOTAL
    if not limit or total <= limit:
        return
    if item.price > limit:
        message = _(
            "An order may total at most %(limit)s KRW; this item alone costs %(price)s KRW."
        )
    else:
        message = _(
            "An order may total at most %(limit)s KRW; with this item your cart would total "
            "%(total)s KRW. Order what is in your cart first."
        )
    raise ApplicationError(
        "order_limit_exceeded",
        message % {"limit": f"{limit:,}", "price": f"{item.price:,}", "total": f"{total:,}"},
    )


def cart_item_add(*, user, product: ProductRef) -> CartItem:
    """Add a course or curriculum. A curriculum replaces the cart's items for its own courses,
    and a course a cart curriculum already includes is refused, so nothing is paid for twice."""
    (item,) = products_for_sale([product])
    products_check_not_owned(user=user, products=[item])
    items = list(
        CartItem.objects.filter(user=user)
        .select_related("course")
        .prefetch_related("curriculum__courses")
    )
    if any(existing.course_id == product.course_id and product.course_id for existing in items):
        raise _already_in_cart()
    if any(
        existing.curriculum_id == product.curriculum_id and product.curriculum_id
        for existing in items
    ):
        raise _already_in_cart()
    if product.course_id and any(
        existing.curriculum and product.course_id in product_course_ids(existing.curriculum)
        for existing in items
    ):
        raise _already_in_cart()
    included = product_course_ids(item) if isinstance(item, Curriculum) else set()
    if any(
        existing.curriculum and included & product_course_ids(existing.curriculum)
        for existing in items
    ):
        raise _already_in_cart()
    replaced = [existing.pk for existing in items if existing.course_id in included]
    if len(items) - len(replaced) >= settings.CART_MAX_ITEMS:
        raise ApplicationError(
            "cart_full",
            _("Your cart holds at most %(count)d items.") % {"count": settings.CART_MAX_ITEMS},
            status.HTTP_409_CONFLICT,
        )
    kept = [existing for existing in items if existing.pk not in replaced]
    _check_orderable(item=item, total=item.price + sum(e.product.price for e in kept))
    try:
        with transaction.atomic():
            CartItem.objects.filter(pk__in=replaced).delete()
            return CartItem.objects.create(
                user=user,
                course=None if isinstance(item, Curriculum) else item,
                curriculum=item if isinstance(item, Curriculum) else None,
            )
    except IntegrityError as exc:  # the same item added by a concurrent request
        raise _already_in_cart() from exc


def cart_item_remove(*, user, item_id: int) -> None:
    deleted, _count = CartItem.objects.filter(user=user, pk=item_id).delete()
    if not deleted:
        raise Http404

"""The cart: one list of products per user, totalled on the server."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404

from courses.models import Course, Curriculum
from payments.errors import AlreadyInCart, CartFull, OrderLimitExceeded
from payments.models import CartItem
from payments.services.products import (
    ProductRef,
    product_course_ids,
    products_check_not_owned,
    products_for_sale,
)


def _check_orderable(*, item: Course | Curriculum, total: int) -> None:
    """OrderLimitExceeded for an item the cart could never be ordered with: its price alone, or
    the cart's total with it, passes ORDER_MAX_TOTAL."""
    limit = settings.ORDER_MAX_TOTAL
    if not limit or total <= limit:
        return
    message = (
        OrderLimitExceeded.ITEM_ALONE if item.price > limit else OrderLimitExceeded.CART_WITH_ITEM
    )
    raise OrderLimitExceeded(
        message, limit=f"{limit:,}", price=f"{item.price:,}", total=f"{total:,}"
    )


def _already_in_cart(*, product: ProductRef, item: Course | Curriculum, items: list) -> bool:
    """The product itself is in the cart, or one of its courses is through a cart curriculum."""
    course_ids = product_course_ids(item)
    return any(
        (product.course_id and existing.course_id == product.course_id)
        or (product.curriculum_id and existing.curriculum_id == product.curriculum_id)
        or (existing.curriculum and course_ids & product_course_ids(existing.curriculum))
        for existing in items
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
    if _already_in_cart(product=product, item=item, items=items):
        raise AlreadyInCart()
    included = product_course_ids(item) if isinstance(item, Curriculum) else set()
    replaced = [existing.pk for existing in items if existing.course_id in included]
    if len(items) - len(replaced) >= settings.CART_MAX_ITEMS:
        raise CartFull(count=settings.CART_MAX_ITEMS)
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
        raise AlreadyInCart() from exc


def cart_item_remove(*, user, item_id: int) -> None:
    deleted, _count = CartItem.objects.filter(user=user, pk=item_id).delete()
    if not deleted:
        raise Http404

"""The shop's rules called directly, without HTTP: what is for sale and owned, the cart, placing
and cancelling orders, and billing addresses."""

from datetime import timedelta

import pytest
from django.db.models import F

from accounts.tests.factories import UserFactory
from courses.tests.factories import CourseFactory, EnrollmentFactory
from payments.errors import (
    AlreadyInCart,
    AlreadyOwned,
    CartFull,
    DefaultRequired,
    DuplicateItem,
    EmptyOrder,
    NotForSale,
    OrderExpired,
    OrderLimitExceeded,
    OrderNotCancellable,
    OrderNotFound,
    PriceChanged,
)
from payments.models import BillingAddress, CartItem, Order, OrderStatus
from payments.selectors import cart_get
from payments.services.billing import billing_address_update
from payments.services.cart import cart_item_add
from payments.services.orders import order_cancel, order_check_still_for_sale, order_create
from payments.services.products import ProductRef, products_check_not_owned, products_for_sale
from payments.tests.factories import BillingAddressFactory, CurriculumFactory
from payments.tests.flows import stored_order

pytestmark = pytest.mark.django_db


def course_ref(course) -> ProductRef:
    return ProductRef(course_id=course.pk)


def curriculum_ref(curriculum) -> ProductRef:
    return ProductRef(curriculum_id=curriculum.pk)


# --- products -------------------------------------------------------------------------------------


def test_products_for_sale_are_returned_in_the_order_asked():
    course, curriculum = CourseFactory(), CurriculumFactory()

    products = products_for_sale([curriculum_ref(curriculum), course_ref(course)])

    assert products == [curriculum, course]


def test_products_not_for_sale_are_all_named_with_their_position():
    refs = [
        course_ref(CourseFactory()),
        course_ref(CourseFactory(is_published=False)),
        course_ref(CourseFactory(price=0)),
        curriculum_ref(CurriculumFactory(courses=[])),
        ProductRef(course_id=999_999),
    ]

    with pytest.raises(NotForSale) as raised:
        products_for_sale(refs, field_prefix="items")

    assert (raised.value.status_code, raised.value.code) == (400, "not_for_sale")
    assert list(raised.value.fields) == [
        "items[1].course",
        "items[2].course",
        "items[3].curriculum",
        "items[4].course",
    ]


def test_an_owned_course_or_fully_owned_curriculum_is_already_owned_naming_it():
    user = UserFactory()
    owned, missing = CourseFactory(title="Django"), CourseFactory()
    EnrollmentFactory(user=user, course=owned)

    with pytest.raises(AlreadyOwned) as raised:
        products_check_not_owned(user=user, products=[owned])
    with pytest.raises(AlreadyOwned):
        products_check_not_owned(user=user, products=[CurriculumFactory(courses=[owned])])

    assert (raised.value.status_code, raised.value.code) == (409, "already_owned")
    assert "“Django”" in str(raised.value.message)
    products_check_not_owned(user=user, products=[CurriculumFactory(courses=[owned, missing])])


# --- the cart -------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlap", ["same_course", "course_of_a_cart_curriculum", "shared_course"])
def test_what_the_cart_already_holds_is_already_in_cart(overlap):
    user, course = UserFactory(), CourseFactory()
    held = CurriculumFactory(courses=[course, CourseFactory()])
    in_cart = {"course": course} if overlap == "same_course" else {"curriculum": held}
    CartItem.objects.create(user=user, **in_cart)
    wanted = {
        "same_course": course_ref(course),
        "course_of_a_cart_curriculum": course_ref(course),
        "shared_course": curriculum_ref(CurriculumFactory(courses=[CourseFactory(), course])),
    }[overlap]

    with pytest.raises(AlreadyInCart) as raised:
        cart_item_add(user=user, product=wanted)

    assert (raised.value.status_code, raised.value.code) == (409, "already_in_cart")
    assert CartItem.objects.filter(user=user).count() == 1


def test_a_full_cart_is_cart_full_naming_the_limit(settings):
    settings.CART_MAX_ITEMS = 2
    user = UserFactory()
    for course in CourseFactory.create_batch(2, price=1000):
        cart_item_add(user=user, product=course_ref(course))

    with pytest.raises(CartFull) as raised:
        cart_item_add(user=user, product=course_ref(CourseFactory(price=1000)))

    assert (raised.value.status_code, raised.value.code) == (409, "cart_full")
    assert str(raised.value.message) == "Your cart holds at most 2 items."


@pytest.mark.parametrize(
    ("held", "price", "message"),
    [
        (0, 50001, "this item alone costs 50,001 KRW."),
        (30000, 20001, "with this item your cart would total 50,001 KRW."),
    ],
    ids=["item-alone", "cart-with-item"],
)
def test_an_item_the_cart_could_never_be_ordered_with_is_order_limit_exceeded(
    settings, held, price, message
):
    settings.ORDER_MAX_TOTAL = 50000
    user = UserFactory()
    if held:
        cart_item_add(user=user, product=course_ref(CourseFactory(price=held)))

    with pytest.raises(OrderLimitExceeded) as raised:
        cart_item_add(user=user, product=course_ref(CourseFactory(price=price)))

    assert (raised.value.status_code, raised.value.code) == (400, "order_limit_exceeded")
    assert str(raised.value.message).startswith("An order may total at most 50,000 KRW; ")
    assert message in str(raised.value.message)
    assert CartItem.objects.filter(user=user).count() == (1 if held else 0)


def test_a_curriculum_replaces_its_courses_and_the_cart_totals_todays_prices():
    user = UserFactory()
    included, other = CourseFactory(price=10000), CourseFactory(price=20000)
    cart_item_add(user=user, product=course_ref(included))
    cart_item_add(user=user, product=course_ref(other))
    curriculum = CurriculumFactory(courses=[included], price=15000)

    cart_item_add(user=user, product=curriculum_ref(curriculum))
    other.price = 25000
    other.save()

    cart = cart_get(user=user)
    assert [item.product for item in cart.items] == [other, curriculum]
    assert (cart.count, cart.total) == (2, 40000)


# --- orders ---------------------------------------------------------------------------------------


def test_an_order_of_nothing_is_empty_order():
    user = UserFactory()

    with pytest.raises(EmptyOrder) as from_cart:
        order_create(user=user, from_cart=True)
    with pytest.raises(EmptyOrder) as no_items:
        order_create(user=user, items=[])

    assert (from_cart.value.status_code, str(from_cart.value.message)) == (
        400,
        "Your cart is empty.",
    )
    assert from_cart.value.fields == {}
    assert no_items.value.fields == {"items": ["Add at least one item."]}
    assert from_cart.value.status_code == no_items.value.status_code == 400
    assert not Order.objects.exists()


def test_a_course_in_the_cart_twice_over_is_duplicate_item_naming_its_place():
    user, course = UserFactory(), CourseFactory(price=10000)
    CartItem.objects.create(user=user, course=course)
    CartItem.objects.create(user=user, curriculum=CurriculumFactory(courses=[course], price=10000))

    with pytest.raises(DuplicateItem) as raised:
        order_create(user=user, from_cart=True)

    assert (raised.value.status_code, raised.value.fields) == (400, {"cart[1]": ["Duplicate."]})
    assert not Order.objects.exists()


def test_an_order_over_the_limit_is_order_limit_exceeded(settings):
    settings.ORDER_MAX_TOTAL = 50000
    products = [course_ref(CourseFactory(price=30000)), course_ref(CourseFactory(price=20001))]

    with pytest.raises(OrderLimitExceeded) as raised:
        order_create(user=UserFactory(), items=products)

    assert str(raised.value.message) == (
        "An order may total at most 50,000 KRW; this one is 50,001 KRW."
    )
    assert not Order.objects.exists()


def test_a_new_order_is_pending_with_its_lines_and_supersedes_the_previous_one():
    user = UserFactory()
    first = order_create(user=user, items=[course_ref(CourseFactory())])
    course = CourseFactory(title="Django", price=20000)

    order = order_create(user=user, items=[course_ref(course)])

    assert (order.status, order.total) == (OrderStatus.PENDING, 20000)
    assert [(line.course, line.title, line.price) for line in order.lines.all()] == [
        (course, "Django", 20000)
    ]
    assert Order.objects.get(pk=first.pk).status == OrderStatus.CANCELLED


def test_cancelling_someone_elses_order_is_not_found_and_a_closed_one_not_cancellable():
    user = UserFactory()
    theirs = stored_order(UserFactory(), CourseFactory(), status=OrderStatus.PENDING)
    paid = stored_order(user, CourseFactory(), status=OrderStatus.PAID)

    with pytest.raises(OrderNotFound) as not_found:
        order_cancel(user=user, order_id=theirs.pk)
    with pytest.raises(OrderNotCancellable) as not_cancellable:
        order_cancel(user=user, order_id=paid.pk)

    assert (not_found.value.status_code, not_found.value.code) == (404, "not_found")
    assert (not_cancellable.value.status_code, not_cancellable.value.code) == (
        409,
        "order_not_cancellable",
    )
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.PENDING
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID


def test_cancelling_an_expired_order_closes_it_as_expired_and_is_order_expired(settings):
    user = UserFactory()
    order = order_create(user=user, items=[course_ref(CourseFactory())])
    age = timedelta(seconds=settings.ORDER_PENDING_TTL)
    Order.objects.filter(pk=order.pk).update(created_at=F("created_at") - age)

    with pytest.raises(OrderExpired) as raised:
        order_cancel(user=user, order_id=order.pk)

    assert (raised.value.status_code, raised.value.code) == (409, "order_expired")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.EXPIRED


def test_a_changed_price_is_price_changed_with_the_new_prices_in_fields():
    user = UserFactory()
    course, kept = CourseFactory(price=30000), CourseFactory(price=10000)
    order = order_create(user=user, items=[course_ref(kept), course_ref(course)])
    course.price = 35000
    course.save()

    with pytest.raises(PriceChanged) as raised:
        order_check_still_for_sale(order=order)

    assert (raised.value.status_code, raised.value.code) == (409, "price_changed")
    assert raised.value.fields == {"total": ["45000"], "lines[1].price": ["35000"]}
    assert "45,000 KRW" in str(raised.value.message)


# --- billing addresses ----------------------------------------------------------------------------


def test_unsetting_the_default_address_is_default_required_and_changes_nothing():
    user = UserFactory()
    default = BillingAddressFactory(user=user, is_default=True)

    with pytest.raises(DefaultRequired) as raised:
        billing_address_update(user=user, address_id=default.pk, is_default=False, name="New")

    assert (raised.value.status_code, raised.value.code) == (400, "default_required")
    assert raised.value.fields == {"is_default": ["One address must stay the default."]}
    stored = BillingAddress.objects.get(pk=default.pk)
    assert (stored.is_default, stored.name) == (True, default.name)

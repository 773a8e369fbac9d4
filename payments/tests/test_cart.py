"""The cart rows of API.md: what may be added, what is refused and why, and the cart's totals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.testing import client_for
from core.testing import HANGUL, assert_error_envelope
from courses.tests.factories import CourseFactory, EnrollmentFactory
from payments.models import CartItem
from payments.tests.factories import CurriculumFactory

pytestmark = pytest.mark.django_db

CART = "/api/cart/"
ITEMS = "/api/cart/items/"
ITEM_FIELDS = {"id", "kind", "course", "curriculum", "title", "price", "added_at"}


def add(client, **product):
    return client.post(ITEMS, product, format="json")


def in_cart(user, product) -> CartItem:
    field = "course" if product._meta.model_name == "course" else "curriculum"
    return CartItem.objects.create(user=user, **{field: product})


def cart_products(user) -> list[tuple[int | None, int | None]]:
    return list(
        CartItem.objects.filter(user=user).order_by("id").values_list("course_id", "curriculum_id")
    )


# --- GET /api/cart/ ---------------------------------------------------------------------------


def test_empty_cart_is_no_items_and_zero_total(auth_client):
    response = auth_client.get(CART)
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 0, "total": 0}


def test_cart_lists_own_items_at_current_prices(auth_client, user):
    course = CourseFactory(price=30000, title="Django")
    curriculum = CurriculumFactory(price=40000, title="Web track")
    course_item, curriculum_item = in_cart(user, course), in_cart(user, curriculum)
    in_cart(CourseFactory().tutor, CourseFactory(price=99000))  # someone else's cart
    course.price = 35000  # the cart shows today's price, not the price when it was added
    course.save()

    response = auth_client.get(CART)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"items", "count", "total"}
    assert body["count"] == 2
    assert body["total"] == 35000 + 40000
    assert all(set(item) == ITEM_FIELDS for item in body["items"])
    assert [
        (item["id"], item["kind"], item["course"], item["curriculum"], item["title"], item["price"])
        for item in body["items"]
    ] == [
        (course_item.pk, "course", course.pk, None, "Django", 35000),
        (curriculum_item.pk, "curriculum", None, curriculum.pk, "Web track", 40000),
    ]
    assert CartItem.objects.filter(user=user).count() == 2


@pytest.mark.parametrize("size", [1, 10])
def test_cart_runs_a_fixed_number_of_queries(
    auth_client, user, django_assert_max_num_queries, size
):
    for n in range(size):
        in_cart(user, CourseFactory() if n % 2 else CurriculumFactory())
    # Measured: the session with its user (1) + the items joined to their products (1).
    with django_assert_max_num_queries(2):
        body = auth_client.get(CART).json()
    assert body["count"] == size


# --- POST /api/cart/items/ --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["course", "curriculum"])
def test_adding_a_product_is_201_with_the_item(auth_client, user, kind):
    product = (CourseFactory if kind == "course" else CurriculumFactory)(title="Thing", price=12000)

    response = add(auth_client, **{kind: product.pk})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ITEM_FIELDS
    assert (body["kind"], body[kind], body["title"], body["price"]) == (
        kind,
        product.pk,
        "Thing",
        12000,
    )
    item = CartItem.objects.get(pk=body["id"])
    assert (item.user, item.product) == (user, product)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda course, curriculum: {}, "non_field_errors"),
        (
            lambda course, curriculum: {"course": course, "curriculum": curriculum},
            "non_field_errors",
        ),
        (lambda course, curriculum: {"course": "abc"}, "course"),
        (lambda course, curriculum: {"course": 0}, "course"),
        (lambda course, curriculum: {"curriculum": None}, "curriculum"),
    ],
    ids=["neither", "both", "not-a-number", "zero", "null"],
)
def test_not_exactly_one_valid_product_id_is_400_with_fields(auth_client, body, field):
    body = body(CourseFactory().pk, CurriculumFactory().pk)
    error = assert_error_envelope(add(auth_client, **body), 400, "validation_error")
    assert field in error["fields"], error
    assert not CartItem.objects.exists()


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("course", {"is_published": False}),
        ("course", {"price": 0}),
        ("course", None),
        ("curriculum", {"is_published": False}),
        ("curriculum", {"price": 0}),
        ("curriculum", None),
    ],
    ids=[
        "unpublished-course",
        "free-course",
        "unknown-course",
        "unpublished-curriculum",
        "free-curriculum",
        "unknown-curriculum",
    ],
)
def test_a_product_that_is_not_for_sale_is_400_not_for_sale(auth_client, kind, fields):
    factory = CourseFactory if kind == "course" else CurriculumFactory
    product_id = factory(**fields).pk if fields is not None else 999_999

    error = assert_error_envelope(add(auth_client, **{kind: product_id}), 400, "not_for_sale")

    assert list(error["fields"]) == [kind]
    assert not CartItem.objects.exists()


def test_a_curriculum_without_courses_is_400_not_for_sale(auth_client):
    """Selling it would take money for nothing: buying a curriculum enrols in its courses."""
    empty = CurriculumFactory(courses=[])

    error = assert_error_envelope(add(auth_client, curriculum=empty.pk), 400, "not_for_sale")

    assert list(error["fields"]) == ["curriculum"]
    assert not CartItem.objects.exists()


@pytest.mark.parametrize("kind", ["course", "curriculum"])
def test_adding_the_same_product_twice_is_409_already_in_cart(auth_client, user, kind):
    product = (CourseFactory if kind == "course" else CurriculumFactory)()
    first = in_cart(user, product)

    assert_error_envelope(add(auth_client, **{kind: product.pk}), 409, "already_in_cart")

    assert list(CartItem.objects.values_list("pk", flat=True)) == [first.pk]


def test_a_course_whose_curriculum_is_in_the_cart_is_409_already_in_cart(auth_client, user):
    course = CourseFactory()
    in_cart(user, CurriculumFactory(courses=[CourseFactory(), course]))

    assert_error_envelope(add(auth_client, course=course.pk), 409, "already_in_cart")

    assert not CartItem.objects.filter(course=course).exists()
    assert CartItem.objects.count() == 1


def test_a_curriculum_sharing_a_course_with_one_in_the_cart_is_409_already_in_cart(
    auth_client, user
):
    """Otherwise the cart holds what POST /api/orders/ {"from_cart": true} refuses as
    `duplicate_item`, and the buyer cannot check out."""
    shared = CourseFactory()
    first = CurriculumFactory(courses=[CourseFactory(), shared])
    overlapping = CurriculumFactory(courses=[shared, CourseFactory()])
    in_cart(user, first)

    assert_error_envelope(add(auth_client, curriculum=overlapping.pk), 409, "already_in_cart")

    assert cart_products(user) == [(None, first.pk)]
    assert auth_client.post("/api/orders/", {"from_cart": True}, format="json").status_code == 201


def test_another_users_cart_does_not_make_an_item_a_duplicate(auth_client, user):
    course = CourseFactory()
    stranger = CourseFactory().tutor
    in_cart(stranger, course)

    assert add(auth_client, course=course.pk).status_code == 201

    assert cart_products(user) == [(course.pk, None)]
    assert cart_products(stranger) == [(course.pk, None)]


def test_adding_a_curriculum_removes_the_carts_items_for_its_own_courses(auth_client, user):
    included, other_included, unrelated = CourseFactory.create_batch(3, price=10000)
    curriculum = CurriculumFactory(courses=[included, other_included])
    in_cart(user, included)
    in_cart(user, unrelated)
    stranger = unrelated.tutor
    in_cart(stranger, included)  # only the buyer's own cart changes

    response = add(auth_client, curriculum=curriculum.pk)

    assert response.status_code == 201, response.content
    assert response.json()["curriculum"] == curriculum.pk
    assert cart_products(user) == [(unrelated.pk, None), (None, curriculum.pk)]
    assert cart_products(stranger) == [(included.pk, None)]
    assert auth_client.get(CART).json()["count"] == 2


@pytest.mark.parametrize("expires_in", [None, timedelta(days=30)], ids=["for-good", "for-now"])
def test_a_course_with_an_active_enrollment_is_409_already_owned(auth_client, user, expires_in):
    course = CourseFactory()
    expires_at = timezone.now() + expires_in if expires_in else None
    EnrollmentFactory(user=user, course=course, expires_at=expires_at)

    assert_error_envelope(add(auth_client, course=course.pk), 409, "already_owned")

    assert not CartItem.objects.exists()


def test_a_tutor_adding_their_own_course_is_409_already_owned():
    course = CourseFactory()

    response = add(client_for(course.tutor), course=course.pk)

    assert_error_envelope(response, 409, "already_owned")
    assert not CartItem.objects.exists()


@pytest.mark.parametrize(
    "enrollment",
    [
        {"starts_at": -timedelta(days=30), "expires_at": -timedelta(days=1)},
        {"revoked_at": -timedelta(hours=1)},
    ],
    ids=["expired", "revoked"],
)
def test_an_inactive_enrollment_does_not_count_as_owned(auth_client, user, enrollment):
    course = CourseFactory()
    now = timezone.now()
    EnrollmentFactory(user=user, course=course, **{k: now + v for k, v in enrollment.items()})

    response = add(auth_client, course=course.pk)

    assert response.status_code == 201, response.content
    assert cart_products(user) == [(course.pk, None)]


def test_a_curriculum_whose_courses_are_all_owned_is_409_already_owned(auth_client, user):
    courses = CourseFactory.create_batch(2)
    curriculum = CurriculumFactory(courses=courses)
    for course in courses:
        EnrollmentFactory(user=user, course=course)

    assert_error_envelope(add(auth_client, curriculum=curriculum.pk), 409, "already_owned")

    assert not CartItem.objects.exists()


def test_a_partly_owned_curriculum_may_be_added(auth_client, user):
    owned, missing = CourseFactory.create_batch(2)
    curriculum = CurriculumFactory(courses=[owned, missing])
    EnrollmentFactory(user=user, course=owned)

    response = add(auth_client, curriculum=curriculum.pk)

    assert response.status_code == 201, response.content
    assert cart_products(user) == [(None, curriculum.pk)]


def test_a_full_cart_is_409_cart_full(auth_client, user, settings):
    settings.CART_MAX_ITEMS = 2
    for course in CourseFactory.create_batch(2):
        in_cart(user, course)

    error = assert_error_envelope(add(auth_client, course=CourseFactory().pk), 409, "cart_full")

    assert "2" in error["message"]
    assert CartItem.objects.filter(user=user).count() == 2


def test_a_curriculum_replacing_items_fits_in_a_full_cart(auth_client, user, settings):
    settings.CART_MAX_ITEMS = 2
    courses = CourseFactory.create_batch(2)
    for course in courses:
        in_cart(user, course)
    curriculum = CurriculumFactory(courses=courses)

    response = add(auth_client, curriculum=curriculum.pk)

    assert response.status_code == 201, response.content
    assert cart_products(user) == [(None, curriculum.pk)]


# --- DELETE /api/cart/items/{id}/ -------------------------------------------------------------


def test_removing_an_item_is_204_and_the_row_is_gone(auth_client, user):
    kept, removed = in_cart(user, CourseFactory()), in_cart(user, CurriculumFactory())

    response = auth_client.delete(f"{ITEMS}{removed.pk}/")

    assert response.status_code == 204
    assert response.content == b""
    assert list(CartItem.objects.values_list("pk", flat=True)) == [kept.pk]
    assert auth_client.get(CART).json()["count"] == 1


@pytest.mark.parametrize("whose", ["unknown", "someone-elses"])
def test_removing_an_unknown_or_someone_elses_item_is_404(auth_client, whose):
    course = CourseFactory()
    item_id = 999_999 if whose == "unknown" else in_cart(course.tutor, course).pk

    assert_error_envelope(auth_client.delete(f"{ITEMS}{item_id}/"), 404, "not_found")

    assert CartItem.objects.count() == (0 if whose == "unknown" else 1)


# --- anonymous ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("get", CART), ("post", ITEMS), ("delete", ITEMS + "{}/")]
)
def test_anonymous_is_401(api_client, method, path):
    course = CourseFactory()
    item = in_cart(course.tutor, CurriculumFactory())

    response = getattr(api_client, method)(
        path.format(item.pk), {"course": course.pk}, format="json"
    )

    assert_error_envelope(response, 401, "not_authenticated")
    assert list(CartItem.objects.values_list("pk", flat=True)) == [item.pk]


# --- Korean messages ----------------------------------------------------------------------------


def _already_in_cart(client, user, settings):
    course = CourseFactory()
    in_cart(user, course)
    return add(client, course=course.pk), 409


def _already_owned(client, user, settings):
    course = CourseFactory()
    EnrollmentFactory(user=user, course=course)
    return add(client, course=course.pk), 409


def _not_for_sale(client, user, settings):
    return add(client, course=CourseFactory(is_published=False).pk), 400


def _order_limit_exceeded(client, user, settings):
    settings.ORDER_MAX_TOTAL = 10000
    body = {"items": [{"course": CourseFactory(price=30000).pk}]}
    return client.post("/api/orders/", body, format="json"), 400


@pytest.mark.parametrize(
    ("code", "scene"),
    [
        ("already_in_cart", _already_in_cart),
        ("already_owned", _already_owned),
        ("not_for_sale", _not_for_sale),
        ("order_limit_exceeded", _order_limit_exceeded),
    ],
    ids=["already_in_cart", "already_owned", "not_for_sale", "order_limit_exceeded"],
)
def test_shop_errors_are_in_korean_for_accept_language_ko(user, settings, code, scene):
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko"

    response, status_code = scene(client, user, settings)

    error = assert_error_envelope(response, status_code, code)
    assert response["Content-Language"] == "ko"
    assert HANGUL.search(error["message"]), error["message"]
    for messages in error["fields"].values():
        assert all(HANGUL.search(message) for message in messages), error["fields"]
    assert CartItem.objects.filter(user=user).count() == (1 if code == "already_in_cart" else 0)


# --- what can never be ordered (ORDER_MAX_TOTAL) ----------------------------------------------


@pytest.fixture
def limit(settings) -> int:
    settings.ORDER_MAX_TOTAL = 50000
    return 50000


def test_an_item_dearer_than_the_order_limit_is_400_and_not_added(auth_client, user, limit):
    """The audit's case: the cart took what no order could ever hold."""
    dear = CourseFactory(price=limit + 1)
    bundle = CurriculumFactory(price=60000)

    for product in ({"course": dear.pk}, {"curriculum": bundle.pk}):
        error = assert_error_envelope(add(auth_client, **product), 400, "order_limit_exceeded")
        assert "50,000" in error["message"]

    assert not CartItem.objects.filter(user=user).exists()


def test_an_item_taking_the_cart_over_the_limit_is_400_and_the_cart_is_unchanged(
    auth_client, user, limit
):
    held = CourseFactory(price=30000)
    in_cart(user, held)

    response = add(auth_client, course=CourseFactory(price=20001).pk)

    error = assert_error_envelope(response, 400, "order_limit_exceeded")
    assert "50,001" in error["message"]
    assert cart_products(user) == [(held.pk, None)]
    assert add(auth_client, course=CourseFactory(price=20000).pk).status_code == 201
    assert auth_client.get(CART).json()["total"] == limit


def test_a_curriculum_is_judged_on_the_cart_it_leaves_after_replacing_its_courses(
    auth_client, user, limit
):
    included, other = CourseFactory(price=30000), CourseFactory(price=30000)
    in_cart(user, included)
    bundle = CurriculumFactory(courses=[included, other], price=45000)

    response = add(auth_client, curriculum=bundle.pk)

    assert response.status_code == 201, response.content
    assert cart_products(user) == [(None, bundle.pk)]
    assert auth_client.post("/api/orders/", {"from_cart": True}, format="json").status_code == 201


def test_without_a_limit_any_price_is_accepted(auth_client, user, settings):
    settings.ORDER_MAX_TOTAL = 0
    assert add(auth_client, course=CourseFactory(price=10_000_000).pk).status_code == 201

"""Access is the union of what the buyer still holds: each order (and each staff grant) is a
source of its own, and a refund takes back only its own grants (audit item 10)."""

import importlib
from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from courses.models import Enrollment
from courses.services.enrollments import enrollment_grant
from courses.tests.factories import CourseFactory, TopicFactory
from payments.models import Order, OrderStatus
from payments.tests.factories import CurriculumFactory
from payments.tests.flows import (
    approve,
    clients_of,
    concurrently,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)


def courses(count: int) -> list:
    """Priced courses with one (non-preview) topic each, so access can be asked of the API."""
    made = CourseFactory.create_batch(count, price=10000)
    for course in made:
        TopicFactory(lecture__course=course)
    return made


def can_study(client, course) -> bool:
    topic = course.lectures.get().topics.get()
    response = client.get(f"/api/topics/{topic.pk}/")
    assert response.status_code in (200, 403), response.content
    return response.status_code == 200


def access(client, *products) -> list[bool]:
    return [can_study(client, course) for course in products]


def buy(client, **item) -> dict:
    """Order one product through the API and pay it with the sandbox; the paid payment."""
    order = order_for(client, items=[item])
    started = payment_start(client, order["id"])
    response = approve(
        client,
        started["payment"]["id"],
        pg_token_of(sandbox_authorise(client, started["redirect_url"])),
    )
    assert response.status_code == 200, response.content
    return response.json()


def refund(client, payment: dict) -> None:
    response = client.post(f"/api/payments/{payment['id']}/refund/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "refunded"


@pytest.fixture
def buyer(user):
    return client_for(user)


def test_refunding_a_bundle_keeps_a_course_also_bought_on_its_own(buyer, user):
    """The audit's case: the single order stays paid, so its course must stay open."""
    x, y = courses(2)
    single = buy(buyer, course=x.pk)
    bundle = buy(buyer, curriculum=CurriculumFactory(courses=[x, y], price=15000).pk)

    refund(buyer, bundle)

    assert access(buyer, x, y) == [True, False]
    assert Order.objects.get(pk=single["order"]).status == OrderStatus.PAID
    [kept] = Enrollment.objects.filter(user=user, revoked_at__isnull=True)
    assert (kept.course_id, kept.reference) == (x.pk, f"order:{single['order']}")


def test_refunding_the_single_purchase_keeps_the_course_the_bundle_also_sold(buyer):
    x, y = courses(2)
    single = buy(buyer, course=x.pk)
    bundle = buy(buyer, curriculum=CurriculumFactory(courses=[x, y], price=15000).pk)

    refund(buyer, single)
    assert access(buyer, x, y) == [True, True]

    refund(buyer, bundle)
    assert access(buyer, x, y) == [False, False]


@pytest.mark.parametrize("refunded", [0, 1], ids=["first-bundle", "second-bundle"])
def test_two_bundles_sharing_a_course_keep_it_until_both_are_refunded(buyer, refunded):
    shared, first_only, second_only = courses(3)
    bundles = [
        buy(buyer, curriculum=CurriculumFactory(courses=[shared, first_only], price=15000).pk),
        buy(buyer, curriculum=CurriculumFactory(courses=[shared, second_only], price=15000).pk),
    ]

    refund(buyer, bundles[refunded])

    expected = [True, refunded != 0, refunded != 1]
    assert access(buyer, shared, first_only, second_only) == expected
    refund(buyer, bundles[1 - refunded])
    assert access(buyer, shared, first_only, second_only) == [False, False, False]


def test_a_staff_grant_survives_the_refund_of_a_later_purchase(buyer, user):
    """Granted for 30 days by support, then bought in a bundle lasting longer, then refunded:
    the 30 days are the learner's still."""
    x, y = courses(2)
    granted = enrollment_grant(
        user=user, course=x, expires_at=timezone.now() + timedelta(days=30), reference="ticket 5"
    )
    bundle = buy(buyer, curriculum=CurriculumFactory(courses=[x, y], price=15000).pk)

    refund(buyer, bundle)

    assert access(buyer, x, y) == [True, False]
    granted.refresh_from_db()
    assert granted.revoked_at is None
    [entry] = buyer.get("/api/me/enrollments/").json()["results"]
    assert (entry["id"], entry["source"]) == (granted.pk, "grant")


def test_a_refund_leaves_a_staff_grant_made_after_the_purchase(buyer, user):
    (x,) = courses(1)
    paid = buy(buyer, course=x.pk)
    enrollment_grant(user=user, course=x, reference="compensation")

    refund(buyer, paid)

    assert access(buyer, x) == [True]
    assert Enrollment.objects.filter(user=user, revoked_at__isnull=True).get().reference == (
        "compensation"
    )


def test_a_bundle_grants_every_course_even_one_already_held(buyer, user):
    x, y = courses(2)
    single = buy(buyer, course=x.pk)
    bundle = buy(buyer, curriculum=CurriculumFactory(courses=[x, y], price=15000).pk)

    grants = Enrollment.objects.filter(user=user).values_list("course_id", "reference")
    assert sorted(grants) == sorted(
        [
            (x.pk, f"order:{single['order']}"),
            (x.pk, f"order:{bundle['order']}"),
            (y.pk, f"order:{bundle['order']}"),
        ]
    )
    entries = buyer.get("/api/me/enrollments/").json()["results"]
    assert sorted(entry["course"]["id"] for entry in entries) == [x.pk, y.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refund_racing_a_purchase_of_the_same_course_keeps_what_is_still_paid():
    """The single order of X is refunded while a bundle holding X is approved, in real threads:
    whichever commits first, X stays open through the bundle, and closes once that is refunded
    too."""
    for _round in range(3):
        user = UserFactory()
        client = client_for(user)
        x, y = courses(2)
        single = buy(client, course=x.pk)
        curriculum = CurriculumFactory(courses=[x, y], price=15000)
        order = order_for(client, items=[{"curriculum": curriculum.pk}])
        started = payment_start(client, order["id"])
        token = pg_token_of(sandbox_authorise(client, started["redirect_url"]))
        refunding, approving = clients_of(user, 2)

        refunded, approved = concurrently(
            [
                partial(refunding.post, f"/api/payments/{single['id']}/refund/"),
                partial(approve, approving, started["payment"]["id"], token),
            ]
        )

        assert (refunded.status_code, approved.status_code) == (200, 200), (
            refunded.content,
            approved.content,
        )
        assert Order.objects.get(pk=single["order"]).status == OrderStatus.REFUNDED
        assert Order.objects.get(pk=order["id"]).status == OrderStatus.PAID
        assert access(client, x, y) == [True, True]
        active = Enrollment.objects.filter(user=user, revoked_at__isnull=True)
        assert set(active.values_list("reference", flat=True)) == {f"order:{order['id']}"}
        refund(client, approved.json())
        assert access(client, x, y) == [False, False]


def test_the_migration_gives_paid_orders_back_the_grants_an_earlier_schema_overwrote(
    buyer, user, settings
):
    """Before, the bundle's purchase took over the single order's row of X (and a refund of
    the bundle then revoked it); the data migration writes the single order's grant again."""
    from django.apps import apps

    migration = importlib.import_module("payments.migrations.0003_order_grants_per_source")
    x, y = courses(2)
    single = buy(buyer, course=x.pk)
    bundle = buy(buyer, curriculum=CurriculumFactory(courses=[x, y], price=15000).pk)
    refunded = buy(buyer, course=CourseFactory(price=5000).pk)
    refund(buyer, refunded)
    single_order = Order.objects.get(pk=single["order"])
    Enrollment.objects.filter(reference=single_order.reference).delete()  # the old overwrite
    kept = set(Enrollment.objects.values_list("pk", "revoked_at"))

    migration.restore_order_grants(apps, None)

    restored = Enrollment.objects.exclude(pk__in=[pk for pk, _revoked in kept])
    [grant] = restored
    assert (grant.user_id, grant.course_id, grant.reference) == (
        user.pk,
        x.pk,
        single_order.reference,
    )
    assert (grant.source, grant.revoked_at, grant.starts_at) == (
        "purchase",
        None,
        single_order.paid_at,
    )
    days = timedelta(days=settings.ENROLLMENT_PURCHASE_DAYS)
    assert grant.expires_at == single_order.paid_at + days
    assert set(Enrollment.objects.exclude(pk=grant.pk).values_list("pk", "revoked_at")) == kept
    refund(buyer, bundle)
    assert access(buyer, x, y) == [True, False]
    migration.restore_order_grants(apps, None)
    assert Enrollment.objects.count() == len(kept) + 1

"""The hot paths run as many SQL queries whatever the size of what they touch: a watch event after
1 or after 1,000 earlier events of the learner, and every checkout step for 1 or 3 courses and for
a curriculum of 1 or of 3 courses. (bench/stream.py and bench/checkout.py measure their speed.)"""

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import CommittingAPIClient
from courses.tests.factories import CourseFactory, EnrollmentFactory
from payments.tests.factories import CurriculumFactory
from videos.models import WatchEvent
from videos.tests.factories import VideoFactory

HISTORY = 1000
VIDEO_SECONDS = 600.0
STEPS = ("cart", "order", "payment", "sandbox page", "approve")
# Three courses fit under ORDER_MAX_TOTAL in one order.
COURSE_PRICE, CURRICULUM_PRICES = 15_000, {1: 20_000, 3: 40_000}


def heartbeat(n: int, step: float = 2.0) -> dict:
    """The n-th progress heartbeat: the playhead advances by `step` seconds and reports the span
    just played, wrapping round before the end of the video (as bench/stream.py sends them)."""
    position = step * (1 + n % int((VIDEO_SECONDS - 2 * step) // step))
    return {"event_type": "progress", "position": position, "from": position - step, "to": position}


def counted(send, status: int):
    """The response of `send()` (which must be `status`) and the SQL queries it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = send()
    assert response.status_code == status, response.content[:300]
    return response, len(queries)


@pytest.mark.django_db
def test_a_watch_event_runs_as_many_queries_after_1000_earlier_events_as_after_1(tutor, user):
    video = VideoFactory(topic__lecture__course__tutor=tutor, duration=VIDEO_SECONDS)
    EnrollmentFactory(user=user, course=video.topic.lecture.course)
    learner, path = client_for(user), f"/api/videos/{video.pk}/events/"

    def event(n: int) -> int:
        return counted(lambda: learner.post(path, heartbeat(n), "json"), 201)[1]

    event(0)
    after_one = event(1)
    # The history in between as the API stores it, written in bulk: the test's point is the
    # queries of the next event, not the time of a thousand requests.
    WatchEvent.objects.bulk_create(
        WatchEvent(user=user, video=video, event_type="progress", position=beat["position"],
                   span_from=beat["from"], span_to=beat["to"])
        for beat in map(heartbeat, range(2, HISTORY))
    )  # fmt: skip
    after_many = event(HISTORY)
    assert after_one == after_many, (
        f"after 1 event {after_one} queries, after {HISTORY} {after_many}"
    )
    assert video.watch_events.count() == HISTORY + 1


def step_queries(products: list[dict]) -> list[int]:
    """The SQL queries of each step of a fresh buyer's purchase of `products`; the cart step is
    adding the last of them (to a cart that holds the others)."""
    buyer, browser = client_for(UserFactory.create()), CommittingAPIClient()
    buyer.get("/api/cart/")  # the session's verdict is cached on a login's first request
    for product in products[:-1]:
        counted(lambda product=product: buyer.post("/api/cart/items/", product, "json"), 201)
    _, cart = counted(lambda: buyer.post("/api/cart/items/", products[-1], "json"), 201)
    order, ordering = counted(lambda: buyer.post("/api/orders/", {"from_cart": True}, "json"), 201)
    started, paying = counted(
        lambda: buyer.post(
            "/api/payments/",
            {"order": order.json()["id"], "provider": "sandbox"},
            "json",
            headers={"Idempotency-Key": uuid.uuid4().hex},
        ),
        201,
    )
    started = started.json()
    # The buyer's browser on the provider's page: no token of ours.
    page = urlsplit(started["redirect_url"]).path
    redirect, paging = counted(lambda: browser.get(page, {"action": "approve"}), 302)
    pg_token = parse_qs(urlsplit(redirect["Location"]).query)["pg_token"][0]
    approve = f"/api/payments/{started['payment']['id']}/approve/"
    paid, approving = counted(lambda: buyer.get(approve, {"pg_token": pg_token}), 200)
    assert paid.json()["status"] == "paid"
    return [cart, ordering, paying, paging, approving]


def basket(kind: str, size: int) -> list[dict]:
    courses = [CourseFactory.create(price=COURSE_PRICE) for _ in range(size)]
    if kind == "courses":
        return [{"course": course.pk} for course in courses]
    curriculum = CurriculumFactory.create(price=CURRICULUM_PRICES[size], courses=courses)
    return [{"curriculum": curriculum.pk}]


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["courses", "curriculum"])
def test_every_checkout_step_runs_as_many_queries_for_1_course_as_for_3(kind):
    step_queries(basket("courses", 1))  # a first purchase warms this process up
    one, three = step_queries(basket(kind, 1)), step_queries(basket(kind, 3))
    assert one == three, dict(zip(STEPS, zip(one, three, strict=True), strict=True))

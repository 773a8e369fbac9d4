"""The whole purchase, as the issue's "done" describes it: buy with the sandbox, stream the video,
refund, lose access."""

from pathlib import Path
from urllib.parse import urlparse

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from courses.models import Enrollment, EnrollmentSource, TopicType
from courses.tests.factories import CourseFactory, LectureFactory, TopicFactory
from payments.models import Order, OrderStatus, Payment, PaymentStatus, SandboxTransaction
from payments.tests.flows import (
    approve,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)
from videos.models import Video

MP4 = (Path(__file__).parents[2] / "videos" / "tests" / "fixtures" / "tiny.mp4").read_bytes()


def _course_with_video(tutor):
    course = CourseFactory(tutor=tutor, price=30000)
    topic = TopicFactory(lecture=LectureFactory(course=course), type=TopicType.VIDEO)
    uploader = client_for(tutor)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = uploader.post(
        "/api/videos/",
        {"file": SimpleUploadedFile("lesson.mp4", MP4), "title": "Lesson", "topic": topic.pk},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return course, Video.objects.get(pk=response.json()["id"])


def test_student_buys_streams_refunds_and_loses_access(user, tutor):
    course, video = _course_with_video(tutor)
    student = client_for(user)
    stream = f"/api/videos/{video.pk}/stream/"
    assert student.get(stream).status_code == 403

    cart = student.post("/api/cart/items/", {"course": course.pk}, format="json")
    assert cart.status_code == 201, cart.content
    order = order_for(student, from_cart=True)
    assert order["total"] == 30000 and order["status"] == "pending"
    assert [line["title"] for line in order["lines"]] == [course.title]

    started = payment_start(student, order["id"])
    assert started["payment"]["status"] == "pending"
    assert started["payment"]["amount"] == 30000
    location = sandbox_authorise(student, started["redirect_url"])
    assert location.startswith(f"https://app.example.com/payments/{started['payment']['id']}/")
    paid = approve(student, started["payment"]["id"], pg_token_of(location))
    assert paid.status_code == 200, paid.content
    assert paid.json()["status"] == "paid"

    assert Order.objects.get(pk=order["id"]).status == OrderStatus.PAID
    enrollment = Enrollment.objects.get(user=user, course=course)
    assert enrollment.source == EnrollmentSource.PURCHASE
    assert enrollment.reference == f"order:{order['id']}"
    assert student.get("/api/cart/").json()["count"] == 0
    response = student.get(stream, HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206

    refund = student.post(f"/api/payments/{started['payment']['id']}/refund/")
    assert refund.status_code == 200, refund.content
    assert refund.json()["status"] == "refunded"
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.REFUNDED
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert SandboxTransaction.objects.get().state == SandboxTransaction.State.CANCELLED
    assert student.get(stream).status_code == 403
    receipts = student.get("/api/receipts/").json()
    assert receipts["count"] == 1 and receipts["results"][0]["status"] == "refunded"


def _step_queries(client, courses) -> list[int]:
    """SQL statements of each purchase step for an order of `courses`."""
    counts = []

    def measured(request):
        with CaptureQueriesContext(connection) as queries:
            response = request()
        assert response.status_code in (200, 201, 302), response.content
        counts.append(len(queries))
        return response

    client.get("/api/cart/")  # the first request of a login fills the auth cache
    for course in courses:
        measured(lambda course=course: client.post("/api/cart/items/", {"course": course.pk}))
    counts = counts[-1:]  # adding the last item stands for the step
    order = measured(lambda: client.post("/api/orders/", {"from_cart": True}, format="json"))
    started = measured(
        lambda: client.post(
            "/api/payments/", {"order": order.json()["id"], "provider": "sandbox"}, format="json"
        )
    ).json()
    location = measured(
        lambda: client.get(urlparse(started["redirect_url"]).path, {"action": "approve"})
    )["Location"]
    measured(lambda: approve(client, started["payment"]["id"], pg_token_of(location)))
    return counts


def test_each_purchase_step_runs_the_same_queries_for_one_or_three_courses(db):
    one = _step_queries(client_for(UserFactory()), [CourseFactory(price=10000)])
    three = _step_queries(client_for(UserFactory()), [CourseFactory(price=10000) for _ in range(3)])
    assert one == three, (one, three)
    assert Enrollment.objects.count() == 4

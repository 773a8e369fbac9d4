"""Staff tools for the catalogue, and the demo catalogue a fresh checkout starts with."""

import pytest
from django.core.management import call_command

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from courses.models import Course, Curriculum, Enrollment
from courses.tests.factories import EnrollmentFactory, TopicFactory, quiz_topic


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page",
    [
        "course",
        "lecture",
        "topic",
        "question",
        "curriculum",
        "enrollment",
        "submission",
        "category",
    ],
)
def test_every_catalogue_admin_page_opens(admin_client, page):
    quiz_topic()
    EnrollmentFactory()
    assert admin_client.get(f"/admin/courses/{page}/").status_code == 200


@pytest.mark.django_db
def test_staff_grant_a_course_by_adding_an_enrollment(admin_client):
    learner = UserFactory()
    topic = TopicFactory()
    response = admin_client.post(
        "/admin/courses/enrollment/add/",
        {
            "user": learner.pk,
            "course": topic.lecture.course_id,
            "source": "grant",
            "starts_at_0": "2020-01-01",
            "starts_at_1": "00:00:00",
            "reference": "support ticket 12",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert client_for(learner).get(f"/api/topics/{topic.pk}/").status_code == 200


@pytest.mark.django_db
def test_the_revoke_action_stops_access_at_once(admin_client):
    enrollment = EnrollmentFactory()
    topic = TopicFactory(lecture__course=enrollment.course)
    learner = client_for(enrollment.user)
    assert learner.get(f"/api/topics/{topic.pk}/").status_code == 200
    admin_client.post(
        "/admin/courses/enrollment/", {"action": "revoke", "_selected_action": [enrollment.pk]}
    )
    assert learner.get(f"/api/topics/{topic.pk}/").status_code == 403


@pytest.mark.django_db
def test_demo_catalogue_is_idempotent_and_usable(api_client):
    call_command("seed_demo")
    call_command("seed_demo")
    assert Course.objects.filter(is_published=True).count() == 2
    assert Curriculum.objects.get().courses.count() == 2
    for course in Course.objects.all():
        previews = [
            t for lecture in course.lectures.all() for t in lecture.topics.all() if t.is_preview
        ]
        assert len(previews) == 1
        assert api_client.get(f"/api/topics/{previews[0].pk}/").status_code == 200
    enrollment = Enrollment.objects.get(user__email="student1@example.com")
    body = client_for(enrollment.user).get("/api/me/enrollments/").json()
    assert body["results"][0]["course"]["id"] == enrollment.course_id

"""Reading a topic (GET /api/topics/{id}/) never writes; opening it (POST
/api/topics/{id}/open/) records the learner's progress, and completes an article."""

import pytest
from django.utils.dateparse import parse_datetime

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.models import TopicProgress, TopicType
from courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LectureFactory,
    TopicFactory,
    quiz_topic,
)


def open_url(topic) -> str:
    return f"/api/topics/{topic.pk}/open/"


def progress_of(user, topic) -> TopicProgress | None:
    return TopicProgress.objects.filter(user=user, topic=topic).first()


@pytest.mark.django_db
class TestReadingWritesNothing:
    @pytest.mark.parametrize("topic_type", TopicType.values)
    @pytest.mark.parametrize("who", ["learner", "tutor", "staff"])
    def test_reading_any_topic_records_no_progress(self, topic_type, who):
        topic = TopicFactory(type=topic_type)
        caller = {
            "learner": UserFactory,
            "tutor": lambda: topic.lecture.course.tutor,
            "staff": StaffFactory,
        }[who]()
        EnrollmentFactory(user=caller, course=topic.lecture.course)

        response = client_for(caller).get(f"/api/topics/{topic.pk}/")

        assert response.status_code == 200
        assert set(response.json()) >= {"id", "title", "type", "course", "lecture", "body"}
        assert not TopicProgress.objects.exists()

    def test_reading_a_preview_signed_in_records_nothing(self, user):
        topic = TopicFactory(is_preview=True)
        assert client_for(user).get(f"/api/topics/{topic.pk}/").status_code == 200
        assert not TopicProgress.objects.exists()


@pytest.mark.django_db
class TestOpening:
    def test_opening_an_article_records_the_moment_and_completes_it(self, user):
        topic = TopicFactory(type=TopicType.ARTICLE)
        EnrollmentFactory(user=user, course=topic.lecture.course)

        response = client_for(user).post(open_url(topic))

        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"topic", "last_opened_at", "completed_at"}
        progress = progress_of(user, topic)
        assert body["topic"] == topic.pk
        assert parse_datetime(body["last_opened_at"]) == progress.last_opened_at
        assert parse_datetime(body["completed_at"]) == progress.completed_at
        assert progress.completed_at is not None

    @pytest.mark.parametrize("topic_type", [TopicType.QUIZ, TopicType.ASSIGNMENT, TopicType.VIDEO])
    def test_opening_other_types_records_the_moment_only(self, user, topic_type):
        topic = TopicFactory(type=topic_type)
        EnrollmentFactory(user=user, course=topic.lecture.course)

        body = client_for(user).post(open_url(topic)).json()

        assert body["completed_at"] is None
        progress = progress_of(user, topic)
        assert progress.last_opened_at is not None
        assert progress.completed_at is None

    def test_opening_again_moves_the_moment_and_keeps_the_first_completion(self, user):
        topic = TopicFactory()
        EnrollmentFactory(user=user, course=topic.lecture.course)
        client = client_for(user)
        first = client.post(open_url(topic)).json()

        again = client.post(open_url(topic)).json()

        assert again["completed_at"] == first["completed_at"]
        assert parse_datetime(again["last_opened_at"]) >= parse_datetime(first["last_opened_at"])
        assert TopicProgress.objects.count() == 1

    def test_a_body_cannot_choose_whose_progress_which_topic_or_completion(self, user):
        quiz, elsewhere = quiz_topic(), TopicFactory()
        EnrollmentFactory(user=user, course=quiz.lecture.course)
        victim = UserFactory()
        body = {
            "user": victim.pk,
            "topic": elsewhere.pk,
            "completed": True,
            "completed_at": "2030-01-01T00:00:00Z",
        }

        response = client_for(user).post(open_url(quiz), body)

        assert response.status_code == 200
        assert response.json()["completed_at"] is None
        assert list(TopicProgress.objects.values_list("user", "topic")) == [(user.pk, quiz.pk)]

    def test_a_preview_is_opened_by_any_signed_in_user(self, user):
        topic = TopicFactory(is_preview=True, type=TopicType.VIDEO)
        assert client_for(user).post(open_url(topic)).status_code == 200
        assert progress_of(user, topic).last_opened_at is not None

    def test_opening_moves_the_topic_to_resume(self, user):
        course = CourseFactory()
        lecture = LectureFactory(course=course, position=0)
        first, second = (TopicFactory(lecture=lecture, position=p) for p in (0, 1))
        EnrollmentFactory(user=user, course=course)
        client = client_for(user)

        client.post(open_url(first))

        enrollment = client.get("/api/me/enrollments/").json()["results"][0]
        assert enrollment["resume_topic"] == {"id": second.pk, "title": second.title}
        assert (enrollment["completed_topics"], enrollment["total_topics"]) == (1, 2)

    def test_refusals_record_nothing(self, user, api_client):
        topic = TopicFactory()
        draft = TopicFactory(lecture=LectureFactory(course=CourseFactory(is_published=False)))
        client = client_for(user)

        assert_error_envelope(client.post(open_url(topic)), 403, "not_entitled")
        assert_error_envelope(client_for(TutorFactory()).post(open_url(topic)), 403)
        assert_error_envelope(client.post(open_url(draft)), 404, "not_found")
        assert_error_envelope(client.post("/api/topics/999999/open/"), 404, "not_found")
        response = api_client.post(open_url(TopicFactory(is_preview=True)))
        assert_error_envelope(response, 401, "not_authenticated")
        assert not TopicProgress.objects.exists()

    def test_reading_is_the_only_method_of_the_content_and_posting_the_only_one_of_open(self, user):
        topic = TopicFactory(is_preview=True)
        client = client_for(user)
        assert client.post(f"/api/topics/{topic.pk}/").status_code == 405
        assert client.get(open_url(topic)).status_code == 405
        assert not TopicProgress.objects.exists()

    @pytest.mark.parametrize("size", [1, 20])
    def test_opening_runs_a_fixed_number_of_queries(
        self, user, django_assert_max_num_queries, size
    ):
        topic = quiz_topic(questions=size)
        EnrollmentFactory(user=user, course=topic.lecture.course)
        client = client_for(user)
        client.get("/api/me/enrollments/")  # the session's cache is warm

        # Authentication (1 on a warm cache) + topic + entitlement + the progress row (get or
        # create with its savepoint: 4) + the moment + reading it back.
        with django_assert_max_num_queries(10):
            assert client.post(open_url(topic)).status_code == 200

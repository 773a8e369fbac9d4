"""Who may study what, and the learner's own enrollments with their progress."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import TutorFactory, UserFactory
from conftest import client_for
from core.testing import assert_error_envelope
from courses.models import Curriculum, EnrollmentSource, TopicProgress
from courses.selectors.enrollments import user_can_study
from courses.services.enrollments import (
    enrollment_grant,
    enrollment_grant_curriculum,
    enrollment_revoke,
    topic_progress_record,
)
from courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LectureFactory,
    TopicFactory,
    quiz_topic,
)


def study(client, topic):
    return client.get(f"/api/topics/{topic.pk}/")


@pytest.mark.django_db
class TestTopicAccess:
    def test_an_enrolled_student_gets_the_content(self, user):
        topic = TopicFactory(body="The premium text.")
        EnrollmentFactory(user=user, course=topic.lecture.course)
        response = study(client_for(user), topic)
        assert response.status_code == 200
        body = response.json()
        assert body["body"] == "The premium text."
        assert (body["course"], body["lecture"], body["type"]) == (
            topic.lecture.course_id,
            topic.lecture_id,
            "article",
        )

    def test_anyone_else_gets_403_not_entitled(self, user, api_client):
        topic = TopicFactory()
        for client in (client_for(user), api_client):
            error = assert_error_envelope(study(client, topic), 403, "not_entitled")
            assert "premium" not in error["message"].lower()

    def test_a_preview_topic_is_free_even_anonymously(self, api_client):
        topic = TopicFactory(is_preview=True, body="Free sample.")
        assert study(api_client, topic).json()["body"] == "Free sample."

    def test_the_courses_tutor_and_staff_may_study(self, staff_client):
        topic = TopicFactory()
        assert study(client_for(topic.lecture.course.tutor), topic).status_code == 200
        assert study(staff_client, topic).status_code == 200
        assert_error_envelope(study(client_for(TutorFactory()), topic), 403, "not_entitled")

    @pytest.mark.parametrize(
        "enrollment",
        [
            {"expires_at": timezone.now() - timedelta(seconds=1),
             "starts_at": timezone.now() - timedelta(days=9)},
            {"revoked_at": timezone.now()},
            {"starts_at": timezone.now() + timedelta(days=1)},
        ],
        ids=["expired", "revoked", "not-started"],
    )  # fmt: skip
    def test_an_inactive_enrollment_gives_no_access(self, user, enrollment):
        topic = TopicFactory()
        EnrollmentFactory(user=user, course=topic.lecture.course, **enrollment)
        assert_error_envelope(study(client_for(user), topic), 403, "not_entitled")
        assert not user_can_study(user, topic)

    def test_revoking_stops_access_at_once(self, user):
        topic = TopicFactory()
        enrollment_grant(user=user, course=topic.lecture.course)
        client = client_for(user)
        assert study(client, topic).status_code == 200
        assert enrollment_revoke(user=user, course=topic.lecture.course) is True
        assert_error_envelope(study(client, topic), 403, "not_entitled")

    def test_unknown_topics_and_topics_of_drafts_are_404(self, user):
        draft_topic = TopicFactory(lecture=LectureFactory(course=CourseFactory(is_published=False)))
        client = client_for(user)
        assert_error_envelope(client.get("/api/topics/999999/"), 404)
        assert_error_envelope(study(client, draft_topic), 404)

    def test_reading_an_article_completes_it_but_opening_a_quiz_does_not(self, user):
        article, quiz = TopicFactory(), quiz_topic()
        for topic in (article, quiz):
            EnrollmentFactory(user=user, course=topic.lecture.course)
            study(client_for(user), topic)
        progress = {p.topic_id: p for p in TopicProgress.objects.filter(user=user)}
        assert progress[article.pk].completed_at is not None
        assert progress[quiz.pk].completed_at is None
        assert progress[quiz.pk].last_opened_at is not None


@pytest.mark.django_db
class TestEnrollmentServices:
    def test_grant_renews_a_revoked_enrollment(self, user):
        course = CourseFactory()
        enrollment_grant(user=user, course=course)
        enrollment_revoke(user=user, course=course)
        renewed = enrollment_grant(
            user=user, course=course, source=EnrollmentSource.PURCHASE, reference="order-7"
        )
        assert renewed.revoked_at is None
        assert (renewed.source, renewed.reference) == ("purchase", "order-7")
        assert user.enrollments.count() == 1

    def test_a_curriculum_enrols_in_each_of_its_courses(self, user):
        tutor = TutorFactory()
        curriculum = Curriculum.objects.create(title="Track", tutor=tutor)
        courses = CourseFactory.create_batch(3, tutor=tutor)
        for position, course in enumerate(courses):
            curriculum.courses.add(course, through_defaults={"position": position})
        expires = timezone.now() + timedelta(days=730)
        enrollment_grant_curriculum(user=user, curriculum=curriculum, expires_at=expires)
        assert {e.course_id for e in user.enrollments.all()} == {c.pk for c in courses}
        assert {e.expires_at for e in user.enrollments.all()} == {expires}

    def test_completion_is_recorded_once_with_its_first_moment(self, user):
        topic = TopicFactory()
        first = topic_progress_record(user=user, topic=topic, completed=True)
        again = topic_progress_record(user=user, topic=topic, completed=True)
        assert again.completed_at == first.completed_at
        assert TopicProgress.objects.count() == 1


@pytest.mark.django_db
class TestMyEnrollments:
    def build_course(self, topics: int = 4):
        course = CourseFactory()
        lectures = [LectureFactory(course=course, position=p) for p in (1, 0)]
        created = [TopicFactory(lecture=lectures[n % 2], position=n) for n in range(topics)]
        return course, created

    def test_progress_percent_and_the_topic_to_resume(self, user):
        course, topics = self.build_course()
        EnrollmentFactory(user=user, course=course)
        # Lecture at position 0 holds topics 1 and 3; it comes first.
        topic_progress_record(user=user, topic=topics[1], completed=True)
        body = client_for(user).get("/api/me/enrollments/").json()
        assert body["count"] == 1
        enrollment = body["results"][0]
        assert enrollment["course"]["id"] == course.pk
        assert (enrollment["completed_topics"], enrollment["total_topics"]) == (1, 4)
        assert enrollment["progress_percent"] == 25.0
        assert enrollment["resume_topic"] == {"id": topics[3].pk, "title": topics[3].title}

    def test_a_finished_course_has_nothing_to_resume(self, user):
        course, topics = self.build_course(topics=2)
        EnrollmentFactory(user=user, course=course)
        for topic in topics:
            topic_progress_record(user=user, topic=topic, completed=True)
        enrollment = client_for(user).get("/api/me/enrollments/").json()["results"][0]
        assert enrollment["progress_percent"] == 100.0
        assert enrollment["resume_topic"] is None

    def test_only_my_active_enrollments_are_listed(self, user):
        mine = EnrollmentFactory(user=user)
        EnrollmentFactory(user=user, revoked_at=timezone.now())
        EnrollmentFactory(user=UserFactory())
        body = client_for(user).get("/api/me/enrollments/").json()
        assert [e["id"] for e in body["results"]] == [mine.pk]

    @pytest.mark.parametrize("count", [1, 8])
    def test_the_list_runs_a_fixed_number_of_queries(
        self, user, django_assert_max_num_queries, count
    ):
        client = client_for(user)
        for _ in range(count):
            course, topics = self.build_course(topics=3)
            EnrollmentFactory(user=user, course=course)
            topic_progress_record(user=user, topic=topics[0], completed=True)
        with django_assert_max_num_queries(5):
            body = client.get("/api/me/enrollments/", {"page_size": 100}).json()
        assert body["count"] == count

    def test_anonymous_is_401(self, api_client):
        assert_error_envelope(api_client.get("/api/me/enrollments/"), 401)

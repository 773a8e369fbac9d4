"""Who may study what, and the learner's own enrollments with their progress."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.models import Curriculum, Enrollment, EnrollmentSource, TopicProgress
from courses.selectors.enrollments import studyable_course_ids, user_can_study
from courses.services.enrollments import (
    enrollment_grant,
    enrollment_grant_curriculum,
    enrollment_revoke,
    enrollments_grant,
    enrollments_revoke,
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
        error = assert_error_envelope(study(client_for(user), topic), 403, "not_entitled")
        assert "premium" not in error["message"].lower()
        # Without credentials: log in first (courses/tests/test_login_required.py).
        assert_error_envelope(study(api_client, topic), 401, "not_authenticated")

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
            {
                "expires_at": timezone.now() - timedelta(seconds=1),
                "starts_at": timezone.now() - timedelta(days=9),
            },
            {"revoked_at": timezone.now()},
            {"starts_at": timezone.now() + timedelta(days=1)},
        ],
        ids=["expired", "revoked", "not-started"],
    )
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

    def test_opening_an_article_completes_it_but_opening_a_quiz_does_not(self, user):
        article, quiz = TopicFactory(), quiz_topic()
        for topic in (article, quiz):
            EnrollmentFactory(user=user, course=topic.lecture.course)
            assert study(client_for(user), topic).status_code == 200
            assert not TopicProgress.objects.filter(topic=topic).exists()  # reading writes nothing
            assert client_for(user).post(f"/api/topics/{topic.pk}/open/").status_code == 200
        progress = {p.topic_id: p for p in TopicProgress.objects.filter(user=user)}
        assert progress[article.pk].completed_at is not None
        assert progress[quiz.pk].completed_at is None
        assert progress[quiz.pk].last_opened_at is not None


@pytest.mark.django_db
class TestEnrollmentServices:
    def test_granting_again_under_the_same_reference_renews_that_grant(self, user):
        course = CourseFactory()
        first = enrollment_grant(user=user, course=course, reference="ticket-7")
        enrollment_revoke(user=user, course=course)
        later = timezone.now() + timedelta(days=30)
        renewed = enrollment_grant(user=user, course=course, reference="ticket-7", expires_at=later)
        assert renewed.pk == first.pk
        assert (renewed.revoked_at, renewed.expires_at) == (None, later)
        assert user.enrollments.count() == 1

    def test_each_source_writes_a_grant_of_its_own(self, user):
        course = CourseFactory()
        staff = enrollment_grant(user=user, course=course)
        again = enrollment_grant(user=user, course=course)
        bought = enrollment_grant(
            user=user, course=course, source=EnrollmentSource.PURCHASE, reference="order:7"
        )
        assert len({staff.pk, again.pk, bought.pk}) == 3
        assert staff.reference == again.reference == ""
        assert Enrollment.objects.get(pk=staff.pk).revoked_at is None

    def test_one_source_cannot_grant_a_course_twice(self, user):
        course = CourseFactory()
        grant = {"source": EnrollmentSource.PURCHASE, "expires_at": None, "reference": "order:9"}
        enrollments_grant(user=user, courses=[course], **grant)
        with pytest.raises(IntegrityError), transaction.atomic():
            enrollments_grant(user=user, courses=[course], **grant)
        assert user.enrollments.count() == 1

    def test_revoking_one_source_keeps_the_access_another_gives(self, user):
        """The audit's item 10 at the service level: a refund takes back its own grant only."""
        topic = TopicFactory()
        course = topic.lecture.course
        enrollment_grant(user=user, course=course, reference="support ticket 12")
        enrollments_grant(
            user=user,
            courses=[course],
            source=EnrollmentSource.PURCHASE,
            expires_at=timezone.now() + timedelta(days=730),
            reference="order:1",
        )
        assert enrollments_revoke(user=user, reference="order:1") == 1
        assert user_can_study(user, topic)
        assert enrollments_revoke(user=user, reference="support ticket 12") == 1
        assert not user_can_study(user, topic)

    def test_a_blank_reference_names_no_source_to_revoke(self, user):
        enrollment_grant(user=user, course=CourseFactory())
        with pytest.raises(ValueError):
            enrollments_revoke(user=user, reference="")
        assert user.enrollments.get().revoked_at is None

    def test_access_lasts_while_any_grant_is_active(self, user):
        topic = TopicFactory()
        course, now = topic.lecture.course, timezone.now()
        EnrollmentFactory(
            user=user,
            course=course,
            starts_at=now - timedelta(days=9),
            expires_at=now - timedelta(days=1),
        )
        EnrollmentFactory(user=user, course=course, starts_at=now + timedelta(days=1))
        assert not user_can_study(user, topic)
        EnrollmentFactory(user=user, course=course, expires_at=now + timedelta(days=1))
        assert user_can_study(user, topic)
        assert studyable_course_ids(user=user, course_ids=[course.pk]) == {course.pk}

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
        now = timezone.now()
        for _ in range(count):
            course, topics = self.build_course(topics=3)
            for expires_at in (None, now + timedelta(days=3), now + timedelta(days=9)):
                EnrollmentFactory(user=user, course=course, expires_at=expires_at)
            topic_progress_record(user=user, topic=topics[0], completed=True)
        with django_assert_max_num_queries(5):
            body = client.get("/api/me/enrollments/", {"page_size": 100}).json()
        assert body["count"] == count
        assert {e["completed_topics"] for e in body["results"]} == {1}

    def test_a_course_held_several_ways_is_listed_once_until_the_latest_expiry(self, user):
        course, topics = self.build_course(topics=2)
        now = timezone.now()
        soon, later = now + timedelta(days=3), now + timedelta(days=30)
        EnrollmentFactory(
            user=user,
            course=course,
            expires_at=soon,
            reference="order:1",
            source=EnrollmentSource.PURCHASE,
        )
        longest = EnrollmentFactory(
            user=user,
            course=course,
            expires_at=later,
            reference="order:2",
            source=EnrollmentSource.PURCHASE,
        )
        EnrollmentFactory(user=user, course=course, expires_at=None, revoked_at=now)
        EnrollmentFactory(user=user, course=course, starts_at=now + timedelta(days=1))
        topic_progress_record(user=user, topic=topics[0], completed=True)
        client = client_for(user)

        [entry] = client.get("/api/me/enrollments/").json()["results"]

        assert entry["id"] == longest.pk
        assert entry["course"]["id"] == course.pk
        assert entry["expires_at"] == serializers.DateTimeField().to_representation(later)
        assert (entry["completed_topics"], entry["total_topics"]) == (1, 2)
        forever = EnrollmentFactory(user=user, course=course, expires_at=None)
        [entry] = client.get("/api/me/enrollments/").json()["results"]
        assert (entry["id"], entry["expires_at"], entry["source"]) == (forever.pk, None, "grant")
        Enrollment.objects.filter(user=user).update(revoked_at=now)
        assert client.get("/api/me/enrollments/").json()["count"] == 0

    def test_anonymous_is_401(self, api_client):
        assert_error_envelope(api_client.get("/api/me/enrollments/"), 401)


@pytest.mark.django_db
class TestStaffGrants:
    def test_staff_grant_a_course_the_learner_already_bought(self, admin_client, user):
        topic = TopicFactory()
        course = topic.lecture.course
        bought = EnrollmentFactory(
            user=user, course=course, source=EnrollmentSource.PURCHASE, reference="order:1"
        )
        response = admin_client.post(
            "/admin/courses/enrollment/add/",
            {
                "user": user.pk,
                "course": course.pk,
                "source": "grant",
                "starts_at_0": "2020-01-01",
                "starts_at_1": "00:00:00",
                "reference": "support ticket 12",
            },
        )
        assert response.status_code == 302, response.content[:2000]
        enrollments_revoke(user=user, reference=bought.reference)
        assert study(client_for(user), topic).status_code == 200
        assert user.enrollments.filter(revoked_at__isnull=True).get().source == "grant"

    def test_the_revoke_action_takes_back_only_the_selected_grant(self, admin_client, user):
        topic = TopicFactory()
        course = topic.lecture.course
        staff_grant = EnrollmentFactory(user=user, course=course, reference="ticket 3")
        bought = EnrollmentFactory(
            user=user, course=course, source=EnrollmentSource.PURCHASE, reference="order:4"
        )
        learner = client_for(user)

        admin_client.post(
            "/admin/courses/enrollment/",
            {"action": "revoke", "_selected_action": [staff_grant.pk]},
        )

        assert study(learner, topic).status_code == 200
        staff_grant.refresh_from_db()
        bought.refresh_from_db()
        assert staff_grant.revoked_at is not None and bought.revoked_at is None
        admin_client.post(
            "/admin/courses/enrollment/", {"action": "revoke", "_selected_action": [bought.pk]}
        )
        assert_error_envelope(study(learner, topic), 403, "not_entitled")

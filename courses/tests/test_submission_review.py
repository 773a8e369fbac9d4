"""Reading submissions (a learner their own; the course's tutor and staff every one with
`all=1`) and grading them (PATCH /api/submissions/{id}/)."""

import pytest

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.models import Submission, TopicType
from courses.tests.factories import (
    CourseFactory,
    TopicFactory,
)
from courses.tests.helpers import SUBMISSION_KEYS, enrol, submissions_url

pytestmark = pytest.mark.usefixtures("files_in_tmp")


@pytest.mark.django_db
class TestMySubmissions:
    def test_a_learner_sees_only_their_own_submission_for_the_topic(
        self, auth_client, user, assignment
    ):
        mine = Submission.objects.create(user=user, topic=assignment, text="mine")
        classmate = UserFactory()
        enrol(classmate, assignment)
        Submission.objects.create(user=classmate, topic=assignment, text="theirs")
        elsewhere = TopicFactory(type=TopicType.ASSIGNMENT, lecture=assignment.lecture)
        Submission.objects.create(user=user, topic=elsewhere, text="other topic")

        response = auth_client.get(submissions_url(assignment.pk))

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 1
        assert [s["id"] for s in body["results"]] == [mine.pk]
        assert set(body["results"][0]) == SUBMISSION_KEYS
        assert "theirs" not in response.content.decode()

    def test_the_learner_sees_grade_and_feedback_once_graded(self, auth_client, user, assignment):
        tutor = assignment.lecture.course.tutor
        submission = Submission.objects.create(user=user, topic=assignment, text="mine")
        client_for(tutor).patch(
            f"/api/submissions/{submission.pk}/", {"grade": 88, "feedback": "Nice work."}
        )

        result = auth_client.get(submissions_url(assignment.pk)).json()["results"][0]

        assert (result["status"], result["grade"], result["feedback"]) == (
            "graded",
            88,
            "Nice work.",
        )
        assert result["graded_at"] is not None

    def test_nothing_submitted_is_an_empty_page(self, auth_client, assignment):
        body = auth_client.get(submissions_url(assignment.pk)).json()
        assert (body["count"], body["results"]) == (0, [])

    @pytest.mark.parametrize("grader", ["tutor", "staff"])
    def test_the_courses_tutor_and_staff_list_every_submission_with_all(self, assignment, grader):
        learners = UserFactory.create_batch(3)
        for learner in learners:
            Submission.objects.create(user=learner, topic=assignment, text=learner.username)
        Submission.objects.create(user=UserFactory(), topic=TopicFactory(), text="other topic")
        who = assignment.lecture.course.tutor if grader == "tutor" else StaffFactory()

        body = client_for(who).get(submissions_url(assignment.pk), {"all": "1"}).json()

        assert body["count"] == 3
        assert {s["user"]["id"] for s in body["results"]} == {u.pk for u in learners}

    def test_all_for_a_learner_is_403_permission_denied(self, auth_client, user, assignment):
        Submission.objects.create(user=UserFactory(), topic=assignment, text="theirs")
        response = auth_client.get(submissions_url(assignment.pk), {"all": "1"})
        assert_error_envelope(response, 403, "permission_denied")

    def test_a_bad_all_value_is_400(self, auth_client, assignment):
        response = auth_client.get(submissions_url(assignment.pk), {"all": "maybe"})
        assert "all" in assert_error_envelope(response, 400, "validation_error")["fields"]

    @pytest.mark.parametrize("count", [2, 25])
    def test_the_list_runs_a_fixed_number_of_queries(
        self, assignment, django_assert_max_num_queries, count
    ):
        for learner in UserFactory.create_batch(count):
            Submission.objects.create(user=learner, topic=assignment, text="x")
        client = client_for(assignment.lecture.course.tutor)

        # Authentication on a cold cache (3) + topic + count + page.
        with django_assert_max_num_queries(6):
            body = client.get(submissions_url(assignment.pk), {"all": "1", "page_size": 100}).json()

        assert body["count"] == count
        assert len(body["results"]) == count


@pytest.fixture
def submission(user, assignment):
    return Submission.objects.create(user=user, topic=assignment, text="My essay.")


def grade_url(submission_id) -> str:
    return f"/api/submissions/{submission_id}/"


@pytest.mark.django_db
class TestGrading:
    @pytest.mark.parametrize("grader", ["tutor", "staff"])
    def test_the_courses_tutor_or_staff_grade_with_feedback(self, submission, grader):
        who = submission.topic.lecture.course.tutor if grader == "tutor" else StaffFactory()

        response = client_for(who).patch(
            grade_url(submission.pk), {"grade": 75, "feedback": "Good structure."}
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == SUBMISSION_KEYS
        assert (body["status"], body["grade"], body["feedback"]) == (
            "graded",
            75,
            "Good structure.",
        )
        submission.refresh_from_db()
        assert (submission.status, submission.grade, submission.graded_by) == ("graded", 75, who)
        assert submission.graded_at is not None

    @pytest.mark.parametrize("grade", [0, 100])
    def test_grades_at_the_bounds_are_accepted(self, submission, grade):
        tutor = submission.topic.lecture.course.tutor
        response = client_for(tutor).patch(grade_url(submission.pk), {"grade": grade})
        assert response.status_code == 200
        submission.refresh_from_db()
        assert submission.grade == grade

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"grade": -1}, "grade"),
            ({"grade": 101}, "grade"),
            ({"grade": "abc"}, "grade"),
            ({"grade": 50.5}, "grade"),
            ({"grade": None}, "grade"),
            ({"grade": True}, "grade"),
            ({"grade": 80, "feedback": 5}, "feedback"),
            ({"grade": 80, "feedback": "x" * 20001}, "feedback"),
            ({"feedback": "Feedback without a grade."}, "grade"),
            ({}, "grade"),
        ],
    )
    def test_bad_grades_are_400_and_nothing_changes(self, submission, body, field):
        tutor = submission.topic.lecture.course.tutor

        response = client_for(tutor).patch(grade_url(submission.pk), body)

        error = assert_error_envelope(response, 400, "validation_error")
        assert list(error["fields"]) == [field]
        submission.refresh_from_db()
        assert (submission.status, submission.grade, submission.feedback) == ("submitted", None, "")

    def test_a_graded_submission_may_be_regraded_or_get_new_feedback(self, submission):
        client = client_for(submission.topic.lecture.course.tutor)
        client.patch(grade_url(submission.pk), {"grade": 60, "feedback": "First look."})

        feedback_only = client.patch(grade_url(submission.pk), {"feedback": "Second look."})
        regraded = client.patch(grade_url(submission.pk), {"grade": 70})

        assert feedback_only.json()["grade"] == 60
        assert (regraded.status_code, regraded.json()["grade"]) == (200, 70)
        submission.refresh_from_db()
        assert (submission.grade, submission.feedback) == (70, "Second look.")

    def test_a_learner_grading_their_own_submission_is_403(self, auth_client, submission):
        response = auth_client.patch(grade_url(submission.pk), {"grade": 100})
        assert_error_envelope(response, 403, "permission_denied")
        submission.refresh_from_db()
        assert (submission.status, submission.grade) == ("submitted", None)

    @pytest.mark.parametrize("who", ["classmate", "other_tutor"])
    def test_someone_elses_submission_is_404_for_non_graders(self, submission, who):
        caller = UserFactory() if who == "classmate" else TutorFactory()
        if who == "classmate":
            enrol(caller, submission.topic)
        else:
            CourseFactory(tutor=caller)

        response = client_for(caller).patch(grade_url(submission.pk), {"grade": 100})

        assert_error_envelope(response, 404, "not_found")
        submission.refresh_from_db()
        assert (submission.status, submission.grade) == ("submitted", None)

    def test_unknown_submission_is_404_and_anonymous_is_401(self, staff_client, api_client):
        assert_error_envelope(staff_client.patch(grade_url(999999), {"grade": 1}), 404)
        assert_error_envelope(api_client.patch(grade_url(999999), {"grade": 1}), 401)

"""The learning rules without HTTP: quiz attempts, submissions, grading and opening a topic."""

import pytest
from django.http import Http404

from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.exceptions import ApplicationError
from courses.errors import AttemptsExhausted, NotAQuiz, NotEntitled, QuizEmpty, TutorOrStaffOnly
from courses.models import QuizAttempt, Submission, TopicProgress, TopicType
from courses.selectors.enrollments import topic_for_study
from courses.selectors.learning import (
    quiz_attempt_list,
    submission_for_download,
    submission_for_grading,
    submission_list,
)
from courses.services.enrollments import topic_open
from courses.services.quizzes import _attempt_store, quiz_attempt_create
from courses.services.submissions import submission_grade
from courses.tests.factories import TopicFactory, quiz_topic
from courses.tests.helpers import answers


@pytest.mark.django_db
class TestQuizAttemptService:
    def test_a_number_taken_by_a_concurrent_attempt_moves_on_to_the_next(self, user):
        topic = quiz_topic(questions=1)
        fields = {"answers": {}, "correct": 0, "total": 1, "passed": False}
        QuizAttempt.objects.create(user=user, topic=topic, number=1, **fields)

        attempt = _attempt_store(user=user, topic=topic, number=1, limit=3, **fields)

        assert attempt.number == 2
        assert QuizAttempt.objects.count() == 2

    def test_a_taken_last_number_is_attempts_exhausted(self, user):
        topic = quiz_topic(questions=1)
        fields = {"answers": {}, "correct": 0, "total": 1, "passed": False}
        QuizAttempt.objects.create(user=user, topic=topic, number=3, **fields)

        with pytest.raises(ApplicationError) as caught:
            _attempt_store(user=user, topic=topic, number=3, limit=3, **fields)

        assert caught.value.code == "attempts_exhausted"
        assert QuizAttempt.objects.count() == 1

    def test_service_grades_without_the_api(self, user):
        topic = quiz_topic(questions=2)
        sent = {int(k): v for k, v in answers(topic, 1).items()}

        graded = quiz_attempt_create(user=user, topic=topic, answers=sent)

        assert (graded.attempt.correct, graded.attempt.total, graded.attempt.score) == (1, 2, 50.0)
        assert [r.correct for r in graded.results] == [True, False]

    def test_a_topic_that_is_no_quiz_is_refused_before_anything_is_written(self, user):
        topic = TopicFactory(type=TopicType.ARTICLE)
        with pytest.raises(NotAQuiz):
            quiz_attempt_create(user=user, topic=topic, answers={})
        with pytest.raises(NotAQuiz):
            quiz_attempt_list(user=user, topic=topic)
        with pytest.raises(QuizEmpty):
            quiz_attempt_create(user=user, topic=TopicFactory(type=TopicType.QUIZ), answers={})
        assert not QuizAttempt.objects.exists()

    def test_the_limit_holds_without_the_api(self, user, settings):
        settings.QUIZ_MAX_ATTEMPTS = 1
        topic = quiz_topic(questions=1)
        sent = {int(k): v for k, v in answers(topic).items()}
        quiz_attempt_create(user=user, topic=topic, answers=sent)

        with pytest.raises(AttemptsExhausted):
            quiz_attempt_create(user=user, topic=topic, answers=sent)

        assert QuizAttempt.objects.count() == 1


@pytest.fixture
def assignment_with_work():
    """An assignment with one learner's submission."""
    topic = TopicFactory(type=TopicType.ASSIGNMENT)
    learner = UserFactory()
    return topic, Submission.objects.create(user=learner, topic=topic, text="Mine.")


@pytest.mark.django_db
class TestSubmissionRules:
    def test_a_learner_lists_only_their_own_and_never_everyones(self, assignment_with_work):
        topic, _theirs = assignment_with_work
        learner = UserFactory()
        mine = Submission.objects.create(user=learner, topic=topic, text="Also mine.")

        assert list(submission_list(user=learner, topic=topic)) == [mine]
        with pytest.raises(TutorOrStaffOnly) as caught:
            submission_list(user=learner, topic=topic, every_learner=True)
        assert caught.value.message == TutorOrStaffOnly.SEE_ALL_SUBMISSIONS

    @pytest.mark.parametrize("grader", ["tutor", "staff"])
    def test_the_courses_tutor_and_staff_list_everyones(self, assignment_with_work, grader):
        topic, theirs = assignment_with_work
        who = topic.lecture.course.tutor if grader == "tutor" else StaffFactory()
        assert list(submission_list(user=who, topic=topic, every_learner=True)) == [theirs]

    def test_another_tutor_lists_nobodys(self, assignment_with_work):
        topic, _theirs = assignment_with_work
        with pytest.raises(TutorOrStaffOnly):
            submission_list(user=TutorFactory(), topic=topic, every_learner=True)

    def test_grading_is_for_the_courses_tutor_and_staff_only(self, assignment_with_work):
        topic, submission = assignment_with_work

        with pytest.raises(TutorOrStaffOnly) as own:
            submission_for_grading(user=submission.user, submission_id=submission.pk)
        for stranger in (UserFactory(), TutorFactory()):
            with pytest.raises(Http404):
                submission_for_grading(user=stranger, submission_id=submission.pk)
            with pytest.raises(TutorOrStaffOnly):
                submission_grade(grader=stranger, submission=submission, grade=100)

        assert own.value.message == TutorOrStaffOnly.GRADE
        submission.refresh_from_db()
        assert (submission.status, submission.grade) == ("submitted", None)
        graded = submission_grade(
            grader=topic.lecture.course.tutor, submission=submission, grade=70
        )
        assert (graded.status, graded.grade) == ("graded", 70)

    def test_a_file_is_for_its_learner_the_courses_tutor_and_staff(self, assignment_with_work):
        topic, submission = assignment_with_work
        Submission.objects.filter(pk=submission.pk).update(file="submissions/x/work.txt")

        for reader in (submission.user, topic.lecture.course.tutor, StaffFactory()):
            found = submission_for_download(user=reader, submission_id=submission.pk)
            assert found.pk == submission.pk
        for stranger in (UserFactory(), TutorFactory()):
            with pytest.raises(Http404):
                submission_for_download(user=stranger, submission_id=submission.pk)


@pytest.mark.django_db
class TestOpeningATopic:
    def test_opening_an_article_completes_it_and_other_types_not(self, user):
        article, quiz = TopicFactory(), quiz_topic()

        assert topic_open(user=user, topic=article).completed_at is not None
        opened = topic_open(user=user, topic=quiz)

        assert (opened.last_opened_at is not None, opened.completed_at) == (True, None)
        assert TopicProgress.objects.filter(user=user).count() == 2

    def test_who_may_study_is_checked_before_anything_is_opened(self, user):
        topic = TopicFactory()
        with pytest.raises(NotEntitled):
            topic_for_study(user=user, topic_id=topic.pk)
        with pytest.raises(Http404):
            topic_for_study(user=user, topic_id=999_999)

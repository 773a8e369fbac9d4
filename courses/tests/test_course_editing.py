"""The editing view of a course (`GET /api/courses/{id}/edit/`): the tree with its answers, for
its tutor and staff only, in the shape PUT accepts; and a PUT that leaves answers out keeps
them."""

import copy

import pytest
from rest_framework import serializers

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.apis.course_tree import CourseInput
from courses.models import Choice, Question, Topic
from courses.tests.factories import (
    ChoiceFactory,
    CourseFactory,
    EnrollmentFactory,
    LectureFactory,
    QuestionFactory,
    TopicFactory,
)

SECRET = "Because 4 is two twos."


def edit_url(course) -> str:
    return f"/api/courses/{course.pk}/edit/"


def course_url(course) -> str:
    return f"/api/courses/{course.pk}/"


def quiz_course(*, is_published: bool = True):
    """A course with an article and a quiz whose second choice is the right one."""
    course = CourseFactory(is_published=is_published)
    lecture = LectureFactory(course=course, position=0)
    TopicFactory(lecture=lecture, position=0, body="Premium text.", is_preview=True)
    quiz = TopicFactory(lecture=lecture, position=1, type="quiz", body="Answer these.")
    question = QuestionFactory(topic=quiz, position=0, prompt="2 + 2?", explanation=SECRET)
    ChoiceFactory(question=question, position=0, text="5", is_correct=False)
    ChoiceFactory(question=question, position=1, text="4", is_correct=True)
    return course


def input_keys(serializer) -> dict:
    """The field names of an input serializer, nested lists included."""
    keys = {}
    for name, field in serializer.fields.items():
        child = getattr(field, "child", None)
        keys[name] = input_keys(child) if isinstance(child, serializers.Serializer) else None
    return keys


def output_keys(value) -> dict | None:
    if isinstance(value, list):
        merged = {}
        for item in value:
            merged.update(output_keys(item) or {})
        return merged or None
    if isinstance(value, dict):
        return {key: output_keys(item) for key, item in value.items()}
    return None


def answers_of(course) -> list:
    return list(
        Choice.objects.filter(question__topic__lecture__course=course)
        .order_by("pk")
        .values_list("pk", "text", "is_correct")
    )


@pytest.mark.django_db
class TestEditingView:
    def test_the_tutor_gets_the_whole_tree_with_the_answers(self):
        course = quiz_course()

        response = client_for(course.tutor).get(edit_url(course))

        assert response.status_code == 200, response.content
        body = response.json()
        article, quiz = body["lectures"][0]["topics"]
        assert (article["body"], article["is_preview"], article["questions"]) == (
            "Premium text.",
            True,
            [],
        )
        question = quiz["questions"][0]
        assert (question["prompt"], question["explanation"]) == ("2 + 2?", SECRET)
        assert [(c["text"], c["is_correct"]) for c in question["choices"]] == [
            ("5", False),
            ("4", True),
        ]
        assert body["category"] == course.category.slug

    def test_its_shape_is_exactly_what_put_accepts(self):
        course = quiz_course()
        body = client_for(course.tutor).get(edit_url(course)).json()
        expected = input_keys(CourseInput())
        del expected["tutor"]  # staff only, and not every owner is a tutor the input accepts
        assert output_keys(body) == expected

    def test_get_modify_put_round_trips(self):
        course = quiz_course()
        client = client_for(course.tutor)
        stored = answers_of(course)
        body = client.get(edit_url(course)).json()

        unchanged = client.put(course_url(course), copy.deepcopy(body))

        assert unchanged.status_code == 200, unchanged.content
        assert client.get(edit_url(course)).json() == body
        assert answers_of(course) == stored
        body["lectures"][0]["topics"][1]["title"] = "Final quiz"
        choices = body["lectures"][0]["topics"][1]["questions"][0]["choices"]
        choices[0]["is_correct"], choices[1]["is_correct"] = True, False
        changed = client.put(course_url(course), body)
        assert changed.status_code == 200, changed.content
        assert client.get(edit_url(course)).json() == body
        assert [c[2] for c in answers_of(course)] == [True, False]
        assert Topic.objects.get(title="Final quiz").pk == body["lectures"][0]["topics"][1]["id"]

    def test_staff_get_the_editing_view_of_any_course_draft_or_not(self, staff_client):
        for course in (quiz_course(), quiz_course(is_published=False)):
            response = staff_client.get(edit_url(course))
            assert response.status_code == 200
            assert SECRET in response.content.decode()

    @pytest.mark.parametrize("size", [1, 5])
    def test_it_runs_a_fixed_number_of_queries(self, django_assert_max_num_queries, size):
        course = CourseFactory()
        for li in range(size):
            lecture = LectureFactory(course=course, position=li)
            for ti in range(size):
                question = QuestionFactory(
                    topic=TopicFactory(lecture=lecture, position=ti, type="quiz"), position=0
                )
                ChoiceFactory.create_batch(size + 1, question=question)
        client = client_for(course.tutor)
        client.get(course_url(course))  # the session's cache is warm

        # Authentication (1 on a warm cache) + course, lectures, topics, questions, choices.
        with django_assert_max_num_queries(6):
            body = client.get(edit_url(course)).json()

        assert len(body["lectures"]) == size


@pytest.mark.django_db
class TestEditingViewRefusals:
    """Everyone but the course's tutor and staff: the answers never leave the server."""

    def test_anonymous_is_asked_to_log_in(self, api_client):
        course = quiz_course()
        response = api_client.get(edit_url(course))
        assert_error_envelope(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert SECRET not in response.content.decode()

    @pytest.mark.parametrize("who", ["student", "enrolled-learner", "another-tutor"])
    def test_others_are_403_and_see_no_answer(self, who):
        course = quiz_course()
        caller = TutorFactory() if who == "another-tutor" else UserFactory()
        if who == "enrolled-learner":
            EnrollmentFactory(user=caller, course=course)

        response = client_for(caller).get(edit_url(course))

        assert_error_envelope(response, 403, "permission_denied")
        text = response.content.decode()
        assert SECRET not in text
        assert "is_correct" not in text

    def test_another_tutors_draft_is_404(self):
        course = quiz_course(is_published=False)
        response = client_for(TutorFactory()).get(edit_url(course))
        assert_error_envelope(response, 404, "not_found")

    def test_a_tutor_who_is_no_longer_a_tutor_is_403(self):
        course = quiz_course()
        course.tutor.role = "student"
        course.tutor.save()
        response = client_for(course.tutor).get(edit_url(course))
        assert_error_envelope(response, 403, "permission_denied")


@pytest.mark.django_db
class TestAnswersKeptWhenLeftOut:
    def without(self, body: dict, *keys: str) -> dict:
        """`body` with `keys` dropped from every choice and topic."""
        body = copy.deepcopy(body)
        for lecture in body["lectures"]:
            for topic in lecture["topics"]:
                for key in keys:
                    topic.pop(key, None)
                for question in topic["questions"]:
                    for choice in question["choices"]:
                        for key in keys:
                            choice.pop(key, None)
        return body

    def test_a_put_without_is_correct_keeps_every_choice_as_it_was(self):
        course = quiz_course()
        client = client_for(course.tutor)
        before = answers_of(course)
        body = self.without(client.get(edit_url(course)).json(), "is_correct")

        response = client.put(course_url(course), body)

        assert response.status_code == 200, response.content
        assert answers_of(course) == before
        assert "is_correct" not in response.content.decode()
        assert SECRET not in response.content.decode()

    def test_the_outline_a_learner_sees_round_trips_without_touching_the_answers(self):
        """A tutor's editor built on the public outline sends no answers at all."""
        course = quiz_course()
        client = client_for(course.tutor)
        before = answers_of(course)
        body = self.without(client.get(edit_url(course)).json(), "is_correct", "explanation")

        assert client.put(course_url(course), body).status_code == 200

        assert answers_of(course) == before
        assert Question.objects.get().explanation == SECRET

    def test_a_put_without_is_preview_keeps_it(self):
        course = quiz_course()
        client = client_for(course.tutor)
        body = self.without(client.get(edit_url(course)).json(), "is_preview")

        assert client.put(course_url(course), body).status_code == 200

        assert Topic.objects.get(type="article").is_preview is True

    def test_a_new_choice_without_is_correct_is_wrong(self):
        course = quiz_course()
        client = client_for(course.tutor)
        body = client.get(edit_url(course)).json()
        question = body["lectures"][0]["topics"][1]["questions"][0]
        question["choices"] = [{"text": "3"}, {"text": "4"}]

        response = client.put(course_url(course), body)

        error = assert_error_envelope(response, 400, "validation_error")
        assert error["fields"] == {
            "lectures[0].topics[1].questions[0].choices": ["At least one choice must be correct."]
        }
        assert len(answers_of(course)) == 2

    def test_a_choice_of_another_question_keeps_nothing_of_it(self):
        """Naming another question's correct choice neither moves it nor borrows its answer."""
        course = quiz_course()
        client = client_for(course.tutor)
        body = client.get(edit_url(course)).json()
        quiz = body["lectures"][0]["topics"][1]
        right = quiz["questions"][0]["choices"][1]["id"]
        quiz["questions"].append(
            {"prompt": "New?", "choices": [{"id": right, "text": "stolen"}, {"text": "x"}]}
        )

        response = client.put(course_url(course), body)

        error = assert_error_envelope(response, 400, "validation_error")
        messages = error["fields"]["lectures[0].topics[1].questions[1].choices"]
        assert f"Unknown or repeated ids: [{right}]" in messages
        assert Choice.objects.get(pk=right).text == "4"

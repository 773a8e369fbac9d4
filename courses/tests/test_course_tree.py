"""Writing a whole course tree: caps on its size (a 400 naming the path) and a number of queries
that does not grow with the tree."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory
from core.testing import assert_error_envelope
from courses.models import Choice, Course, Lecture, Question, Topic
from courses.services.catalogue import course_save
from courses.tests.helpers import concurrently


def quiz_item(title: str, *, questions: int, choices: int) -> dict:
    return {
        "title": title,
        "type": "quiz",
        "questions": [
            {
                "prompt": f"{title} question {qi}?",
                "explanation": f"{title} because {qi}.",
                "choices": [
                    {"text": f"{title} choice {qi}.{ci}", "is_correct": ci == 0}
                    for ci in range(choices)
                ],
            }
            for qi in range(questions)
        ],
    }


def tree(*, lectures: int, topics: int, questions: int = 2, choices: int = 3) -> list[dict]:
    """`lectures` lectures of `topics` topics; the first topic of each is a quiz."""
    return [
        {
            "title": f"Lecture {li}",
            "topics": [
                quiz_item(f"Quiz {li}", questions=questions, choices=choices)
                if ti == 0
                else {"title": f"Topic {li}.{ti}", "type": "article", "body": "Text."}
                for ti in range(topics)
            ],
        }
        for li in range(lectures)
    ]


def stored(course: Course) -> list[dict]:
    """The stored tree as a PUT body naming every item by id, in order."""
    return [
        {
            "id": lecture.pk,
            "title": lecture.title,
            "topics": [
                {
                    "id": topic.pk,
                    "title": topic.title,
                    "type": topic.type,
                    "body": topic.body,
                    "questions": [
                        {
                            "id": question.pk,
                            "prompt": question.prompt,
                            "explanation": question.explanation,
                            "choices": [
                                {"id": c.pk, "text": c.text, "is_correct": c.is_correct}
                                for c in question.choices.order_by("position")
                            ],
                        }
                        for question in topic.questions.order_by("position")
                    ],
                }
                for topic in lecture.topics.order_by("position")
            ],
        }
        for lecture in course.lectures.order_by("position")
    ]


def shape(course: Course) -> list:
    """(position, title) of every item, nested, straight from the database."""
    return [
        (
            lecture.position,
            lecture.title,
            [
                (
                    topic.position,
                    topic.title,
                    [
                        (
                            question.position,
                            question.prompt,
                            [(c.position, c.text, c.is_correct) for c in question.choices.all()],
                        )
                        for question in topic.questions.all()
                    ],
                )
                for topic in lecture.topics.all()
            ],
        )
        for lecture in course.lectures.all()
    ]


def rework(lectures: list[dict]) -> list[dict]:
    """Every kind of change at every level: rename everything, reverse the lectures, drop the
    last lecture, a topic, a question and a choice, and add a new item at each level."""
    lectures = [dict(lecture, title=lecture["title"] + "!") for lecture in lectures[:-1]][::-1]
    for lecture in lectures:
        lecture["topics"] = [
            dict(topic, title=topic["title"] + "!") for topic in lecture["topics"][:-1]
        ]
        quiz = lecture["topics"][0]
        quiz["questions"] = [
            dict(question, prompt=question["prompt"] + "!", choices=question["choices"][1:])
            for question in quiz["questions"][1:]
        ]
        for question in quiz["questions"]:
            question["choices"] = [
                {**choice, "text": choice["text"] + "!", "is_correct": True}
                for choice in question["choices"]
            ] + [{"text": "New choice"}]
        quiz["questions"].append(quiz_item("New", questions=1, choices=2)["questions"][0])
        lecture["topics"].append({"title": "New topic", "type": "video"})
    lectures.append({"title": "New lecture", "topics": [quiz_item("New", questions=1, choices=2)]})
    return lectures


TREE_TABLES = ("lecture", "topic", "question", "choice")


def queries(send) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    return len(captured), response


@pytest.mark.django_db
class TestQueriesDoNotGrowWithTheTree:
    SMALL = {"lectures": 3, "topics": 3}
    LARGE = {"lectures": 12, "topics": 15, "questions": 6, "choices": 5}

    @pytest.mark.postgres  # SQLite caps a statement's parameters: its inserts come in batches
    def test_creating_a_tree_runs_as_many_queries_small_or_large(self, tutor):
        client = client_for(tutor)
        client.get("/api/courses/", {"mine": "true"})  # the session's cache is warm for both

        counts = []
        for size in (self.SMALL, self.LARGE):
            count, response = queries(
                lambda size=size: client.post(
                    "/api/courses/", {"title": "C", "lectures": tree(**size)}
                )
            )
            assert response.status_code == 201, response.content[:300]
            counts.append(count)

        small, large = counts
        assert large == small, f"{small} queries for the small tree, {large} for the large"
        course = Course.objects.get(pk=response.json()["id"])
        assert Topic.objects.filter(lecture__course=course).count() == 12 * 15
        assert Choice.objects.filter(question__topic__lecture__course=course).count() == 12 * 6 * 5

    def test_reworking_a_tree_runs_as_many_queries_small_or_large(self, tutor):
        client = client_for(tutor)
        courses = []
        for size in (self.SMALL, self.LARGE):
            created = client.post("/api/courses/", {"title": "C", "lectures": tree(**size)})
            courses.append(Course.objects.get(pk=created.json()["id"]))

        counts = []
        for course in courses:
            body = {"title": "C", "lectures": rework(stored(course))}
            count, response = queries(
                lambda course=course, body=body: client.put(f"/api/courses/{course.pk}/", body)
            )
            assert response.status_code == 200, response.content[:300]
            counts.append(count)

        small, large = counts
        assert large == small, f"{small} queries for the small tree, {large} for the large"

    def test_a_reworked_tree_is_stored_exactly_and_keeps_the_named_rows(self, tutor):
        client = client_for(tutor)
        created = client.post(
            "/api/courses/", {"title": "C", "lectures": tree(lectures=3, topics=3)}
        )
        course = Course.objects.get(pk=created.json()["id"])
        body = rework(stored(course))
        kept_ids = {topic["id"] for lecture in body for topic in lecture["topics"] if "id" in topic}

        response = client.put(f"/api/courses/{course.pk}/", {"title": "C", "lectures": body})

        assert response.status_code == 200, response.content[:300]
        again = stored(course)
        assert [lecture["title"] for lecture in again] == [
            "Lecture 1!",
            "Lecture 0!",
            "New lecture",
        ]
        assert [t["title"] for t in again[0]["topics"]] == ["Quiz 1!", "Topic 1.1!", "New topic"]
        question = again[0]["topics"][0]["questions"][0]
        assert question["prompt"] == "Quiz 1 question 1?!"
        assert [(c["text"], c["is_correct"]) for c in question["choices"]] == [
            ("Quiz 1 choice 1.1!", True),
            ("Quiz 1 choice 1.2!", True),
            ("New choice", False),
        ]
        assert kept_ids <= set(Topic.objects.values_list("pk", flat=True))
        # Positions are 0..n-1 at every level.
        levels = (
            (Lecture, "course"),
            (Topic, "lecture"),
            (Question, "topic"),
            (Choice, "question"),
        )
        for model, parent in levels:
            for parent_id in model.objects.values_list(parent, flat=True).distinct():
                positions = model.objects.filter(**{parent: parent_id}).values_list(
                    "position", flat=True
                )
                assert sorted(positions) == list(range(len(positions)))
        assert Lecture.objects.filter(title="Lecture 2").count() == 0

    def test_an_unchanged_tree_writes_no_row(self, tutor):
        client = client_for(tutor)
        created = client.post(
            "/api/courses/", {"title": "C", "lectures": tree(lectures=3, topics=4)}
        )
        course = Course.objects.get(pk=created.json()["id"])
        body = {"title": "C", "lectures": stored(course)}

        with CaptureQueriesContext(connection) as captured:
            response = client.put(f"/api/courses/{course.pk}/", body)

        assert response.status_code == 200
        writes = [
            query["sql"]
            for query in captured
            if query["sql"].startswith(("INSERT", "UPDATE", "DELETE"))
            and any(f'"courses_{table}"' in query["sql"] for table in TREE_TABLES)
        ]
        assert writes == []


CAPS = {
    "COURSE_MAX_LECTURES": 3,
    "COURSE_MAX_TOPICS": 5,
    "COURSE_MAX_QUESTIONS": 4,
    "QUIZ_MAX_QUESTIONS": 3,
}


@pytest.fixture
def caps(settings):
    for name, value in CAPS.items():
        setattr(settings, name, value)


@pytest.mark.django_db
@pytest.mark.usefixtures("caps")
class TestTreeCaps:
    @pytest.mark.parametrize(
        ("lectures", "path", "message"),
        [
            (
                tree(lectures=4, topics=1, questions=1),
                "lectures",
                "A course may have at most 3 lectures.",
            ),
            (
                tree(lectures=2, topics=3, questions=1),
                "lectures",
                "A course may have at most 5 topics.",
            ),
            (
                tree(lectures=1, topics=1, questions=4),
                "lectures[0].topics[0].questions",
                "A quiz may have at most 3 questions.",
            ),
            (
                tree(lectures=2, topics=1, questions=3),
                "lectures",
                "A course may have at most 4 quiz questions.",
            ),
            (
                tree(lectures=1, topics=2, questions=1, choices=11),
                "lectures[0].topics[0].questions[0].choices",
                "A question may have at most 10 choices.",
            ),
        ],
        ids=["lectures", "topics", "questions-per-quiz", "questions", "choices"],
    )
    def test_a_tree_over_a_cap_is_400_naming_the_path_and_writes_nothing(
        self, tutor, lectures, path, message
    ):
        response = client_for(tutor).post("/api/courses/", {"title": "C", "lectures": lectures})

        error = assert_error_envelope(response, 400, "validation_error")
        assert error["fields"] == {path: [message]}
        assert not Course.objects.exists()
        assert not Topic.objects.exists()

    def test_a_tree_at_every_cap_is_accepted(self, tutor):
        lectures = tree(lectures=3, topics=1, questions=1, choices=10)
        lectures[0]["topics"] = [
            quiz_item("Full", questions=2, choices=2),
            {"title": "A", "type": "article"},
            {"title": "B", "type": "article"},
        ]
        response = client_for(tutor).post("/api/courses/", {"title": "C", "lectures": lectures})

        assert response.status_code == 201, response.content
        assert (Lecture.objects.count(), Topic.objects.count(), Question.objects.count()) == (
            3,
            5,
            4,
        )

    def test_an_oversized_body_is_refused_before_its_items_are_validated(self, tutor):
        """Thousands of malformed items cost one count, not one validation each."""
        garbage = [{"title": 7, "topics": [{"type": "podcast"}] * 50}] * 200

        response = client_for(tutor).post("/api/courses/", {"title": "C", "lectures": garbage})

        error = assert_error_envelope(response, 400, "validation_error")
        assert error["fields"] == {
            "lectures": [
                "A course may have at most 3 lectures.",
                "A course may have at most 5 topics.",
            ]
        }

    def test_an_update_over_a_cap_leaves_the_stored_tree_alone(self, tutor):
        client = client_for(tutor)
        created = client.post(
            "/api/courses/", {"title": "C", "lectures": tree(lectures=2, topics=1)}
        )
        course = Course.objects.get(pk=created.json()["id"])
        before = shape(course)
        body = {"title": "C", "lectures": [*stored(course), *tree(lectures=2, topics=1)]}

        response = client.put(f"/api/courses/{course.pk}/", body)

        assert "lectures" in assert_error_envelope(response, 400)["fields"]
        assert shape(course) == before

    def test_the_service_enforces_the_caps_without_the_api(self, tutor):
        with pytest.raises(ValidationError) as caught:
            course_save(
                actor=tutor,
                data={"title": "C", "lectures": tree(lectures=4, topics=1, questions=1)},
            )

        assert caught.value.message_dict == {"lectures": ["A course may have at most 3 lectures."]}
        assert not Course.objects.exists()

    def test_the_caps_speak_korean(self, tutor):
        response = client_for(tutor).post(
            "/api/courses/",
            {"title": "C", "lectures": tree(lectures=4, topics=1, questions=1)},
            HTTP_ACCEPT_LANGUAGE="ko",
        )
        message = assert_error_envelope(response, 400)["fields"]["lectures"][0]
        assert "3" in message
        assert "lectures" not in message


@pytest.mark.django_db
class TestPatchWithATree:
    """PATCH may leave `lectures` out; when it sends them, the tree is checked as in a PUT."""

    @pytest.mark.parametrize(
        ("lectures", "fields"),
        [
            (
                [{"title": "L", "topics": [{"title": "No type"}]}],
                {"lectures[0].topics[0].type": ["This field is required."]},
            ),
            (
                [{"topics": [quiz_item("Q", questions=1, choices=2)]}],
                {"lectures[0].title": ["This field is required."]},
            ),
            (
                [{"title": "L", "topics": [{"title": "Q", "type": "quiz",
                                            "questions": [{"choices": [{}, {}]}]}]}],
                {
                    "lectures[0].topics[0].questions[0].prompt": ["This field is required."],
                    "lectures[0].topics[0].questions[0].choices[0].text": [
                        "This field is required."
                    ],
                    "lectures[0].topics[0].questions[0].choices[1].text": [
                        "This field is required."
                    ],
                },
            ),
            ("not a list", {"lectures": ['Expected a list of items but got type "str".']}),
        ],
        ids=["topic-without-type", "lecture-without-title", "question-without-text", "not-a-list"],
    )  # fmt: skip
    def test_half_a_tree_is_400_naming_what_is_missing(self, tutor, lectures, fields):
        course = Course.objects.create(title="C", tutor=tutor)

        response = client_for(tutor).patch(
            f"/api/courses/{course.pk}/", {"price": 5, "lectures": lectures}
        )

        assert assert_error_envelope(response, 400, "validation_error")["fields"] == fields
        course.refresh_from_db()
        assert (course.price, course.lectures.count()) == (0, 0)

    def test_a_whole_tree_and_a_field_are_both_applied(self, tutor):
        course = Course.objects.create(title="C", tutor=tutor)

        response = client_for(tutor).patch(
            f"/api/courses/{course.pk}/", {"price": 5, "lectures": tree(lectures=2, topics=2)}
        )

        assert response.status_code == 200, response.content
        course.refresh_from_db()
        assert (course.price, course.title, course.lectures.count()) == (5, "C", 2)

    def test_a_bad_field_and_a_bad_tree_are_reported_together(self, tutor):
        course = Course.objects.create(title="C", tutor=tutor)
        body = {"price": -1, "lectures": [{"title": "L", "topics": [{"title": "T"}]}]}

        response = client_for(tutor).patch(f"/api/courses/{course.pk}/", body)

        fields = assert_error_envelope(response, 400)["fields"]
        assert set(fields) == {"price", "lectures[0].topics[0].type"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_rewrites_of_one_tree_queue_up_and_leave_one_of_them_whole():
    """Writing the course row first locks it: six reorders sent at once all succeed, one after
    another, and the tree ends exactly as one of them sent it."""
    tutor = TutorFactory()
    client = client_for(tutor)
    created = client.post("/api/courses/", {"title": "C", "lectures": tree(lectures=4, topics=4)})
    course = Course.objects.get(pk=created.json()["id"])
    lectures = stored(course)
    orders = [lectures[i:] + lectures[:i] for i in range(4)] + [
        lectures[::-1],
        lectures[:2] + lectures[:1:-1],
    ]
    sent = [[lecture["id"] for lecture in order] for order in orders]

    def send(c):
        body = {"title": "C", "lectures": orders.pop()}  # list.pop is atomic
        return c.put(f"/api/courses/{course.pk}/", body)

    outcomes = concurrently(6, client.token_pair.access, send)

    assert [status for status, _code in outcomes] == [200] * 6, outcomes
    final = stored(course)
    assert [lecture["id"] for lecture in final] in sent
    assert [lecture["topics"] for lecture in final] == [
        next(lecture for lecture in lectures if lecture["id"] == kept["id"])["topics"]
        for kept in final
    ]

"""The catalogue API: public reads with no premium content, tutor/staff writes of whole trees."""

import copy

import pytest

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory
from core.testing import assert_error_envelope
from courses.models import Choice, Course, Curriculum, Lecture, Question, Topic
from courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    LectureFactory,
    TopicFactory,
    quiz_topic,
)

TREE = [
    {
        "title": "Basics",
        "topics": [
            {"title": "Welcome", "type": "article", "is_preview": True, "body": "Hello."},
            {"title": "Setup", "type": "video"},
        ],
    },
    {
        "title": "Check",
        "topics": [
            {
                "title": "Quiz",
                "type": "quiz",
                "questions": [
                    {
                        "prompt": "2 + 2?",
                        "choices": [{"text": "4", "is_correct": True}, {"text": "5"}],
                    }
                ],
            },
            {"title": "Homework", "type": "assignment", "body": "Write a poem."},
        ],
    },
]


def course_body(**overrides) -> dict:
    CategoryFactory(slug="web", name="Web")
    return {
        "title": "Web basics",
        "short_description": "Start here.",
        "category": "web",
        "skill_level": "beginner",
        "price": 20000,
        "is_published": True,
        "lectures": copy.deepcopy(TREE),
        **overrides,
    }


def article(body: dict) -> dict:
    return body["lectures"][0]["topics"][0]


def quiz(body: dict) -> dict:
    return body["lectures"][1]["topics"][0]


def tree_of(course: Course) -> list:
    return [
        (
            lecture.position,
            lecture.title,
            [(t.position, t.title, t.type) for t in lecture.topics.order_by("position")],
        )
        for lecture in course.lectures.order_by("position")
    ]


@pytest.mark.django_db
class TestCourseList:
    def test_only_published_courses_are_listed(self, api_client):
        CourseFactory(title="Shown")
        CourseFactory(title="Draft", is_published=False)
        body = api_client.get("/api/courses/").json()
        assert [c["title"] for c in body["results"]] == ["Shown"]
        assert {"id", "title", "price", "category", "skill_level", "tutor", "topic_count"} <= set(
            body["results"][0]
        )

    def test_search_category_level_and_ordering(self, api_client):
        web = CategoryFactory(slug="web")
        CourseFactory(title="Django deep dive", price=50000, category=web, skill_level="advanced")
        CourseFactory(title="Intro to Django", price=10000, category=web)
        CourseFactory(title="Cooking", price=30000)

        def titles(**query) -> list[str]:
            results = api_client.get("/api/courses/", query).json()["results"]
            return [course["title"] for course in results]

        assert sorted(titles(search="django")) == ["Django deep dive", "Intro to Django"]
        assert titles(category="web", ordering="price") == ["Intro to Django", "Django deep dive"]
        assert titles(ordering="-price")[0] == "Django deep dive"
        assert titles(skill_level="advanced") == ["Django deep dive"]

    @pytest.mark.parametrize("query", [{"ordering": "title; drop"}, {"skill_level": "guru"}])
    def test_bad_filters_are_400(self, api_client, query):
        assert_error_envelope(api_client.get("/api/courses/", query), 400, "validation_error")

    def test_tutors_see_their_drafts_with_mine(self, tutor):
        CourseFactory(tutor=tutor, is_published=False, title="My draft")
        CourseFactory(title="Someone else's")
        body = client_for(tutor).get("/api/courses/", {"mine": "true"}).json()
        assert [c["title"] for c in body["results"]] == ["My draft"]

    @pytest.mark.parametrize("value", ["true", "True", "1"])
    def test_mine_is_every_course_of_the_caller_and_nobody_elses(self, tutor, value):
        CourseFactory(tutor=tutor, title="Mine, published")
        CourseFactory(tutor=tutor, title="Mine, draft", is_published=False)
        CourseFactory(title="Someone else's")
        CourseFactory(title="Someone else's draft", is_published=False)

        body = client_for(tutor).get("/api/courses/", {"mine": value}).json()

        assert sorted(c["title"] for c in body["results"]) == ["Mine, draft", "Mine, published"]

    @pytest.mark.parametrize("query", [{}, {"mine": "false"}, {"mine": "0"}, {"mine": "maybe"}])
    def test_without_mine_the_list_is_the_published_catalogue(self, tutor, query):
        CourseFactory(tutor=tutor, title="My draft", is_published=False)
        CourseFactory(title="Shown")
        CourseFactory(title="Another draft", is_published=False)

        body = client_for(tutor).get("/api/courses/", query).json()

        assert [c["title"] for c in body["results"]] == ["Shown"]

    def test_mine_is_nothing_for_anonymous_and_only_their_own_for_staff(
        self, api_client, staff_client
    ):
        CourseFactory(is_published=False)
        CourseFactory()
        assert api_client.get("/api/courses/", {"mine": "true"}).json()["count"] == 0
        assert staff_client.get("/api/courses/", {"mine": "true"}).json()["count"] == 0

    def test_mine_combines_with_the_other_filters(self, tutor):
        CourseFactory(tutor=tutor, title="Django draft", is_published=False, price=10)
        CourseFactory(tutor=tutor, title="Cooking draft", is_published=False)
        CourseFactory(title="Django elsewhere")

        body = client_for(tutor).get("/api/courses/", {"mine": "1", "search": "django"}).json()

        assert [c["title"] for c in body["results"]] == ["Django draft"]

    @pytest.mark.parametrize("count", [2, 25])
    def test_list_runs_a_fixed_number_of_queries(
        self, api_client, django_assert_max_num_queries, count
    ):
        for course in CourseFactory.create_batch(count):
            TopicFactory(lecture=LectureFactory(course=course))
        with django_assert_max_num_queries(2):
            body = api_client.get("/api/courses/", {"page_size": 100}).json()
        assert body["count"] == count


@pytest.mark.django_db
class TestCourseDetail:
    def test_detail_is_the_ordered_tree_without_premium_content(self, api_client, tutor):
        client_for(tutor).post("/api/courses/", course_body())
        course = Course.objects.get()
        body = api_client.get(f"/api/courses/{course.pk}/").json()
        assert [lecture["title"] for lecture in body["lectures"]] == ["Basics", "Check"]
        first_topic = body["lectures"][0]["topics"][0]
        assert first_topic == {
            "id": first_topic["id"],
            "title": "Welcome",
            "position": 0,
            "type": "article",
            "is_preview": True,
        }
        assert "body" not in str(body["lectures"])
        assert "is_correct" not in str(body)

    def test_a_draft_is_404_to_others_and_visible_to_its_tutor(self, api_client):
        draft = CourseFactory(is_published=False)
        assert_error_envelope(api_client.get(f"/api/courses/{draft.pk}/"), 404)
        assert client_for(draft.tutor).get(f"/api/courses/{draft.pk}/").status_code == 200

    @pytest.mark.parametrize("size", [1, 6])
    def test_detail_runs_a_fixed_number_of_queries(
        self, api_client, django_assert_max_num_queries, size
    ):
        course = CourseFactory()
        for _ in range(size):
            lecture = LectureFactory(course=course)
            TopicFactory.create_batch(size, lecture=lecture)
        with django_assert_max_num_queries(2):
            body = api_client.get(f"/api/courses/{course.pk}/").json()
        assert len(body["lectures"]) == size


@pytest.mark.django_db
class TestCourseWrite:
    def test_a_tutor_creates_a_whole_course_in_one_request(self, tutor):
        response = client_for(tutor).post("/api/courses/", course_body())
        assert response.status_code == 201, response.content
        course = Course.objects.get()
        assert (course.tutor, course.category.slug, course.price) == (tutor, "web", 20000)
        assert tree_of(course) == [
            (0, "Basics", [(0, "Welcome", "article"), (1, "Setup", "video")]),
            (1, "Check", [(0, "Quiz", "quiz"), (1, "Homework", "assignment")]),
        ]
        assert Choice.objects.filter(is_correct=True).count() == 1
        assert response.json()["lectures"][1]["topics"][0]["title"] == "Quiz"

    @pytest.mark.parametrize(
        ("mutate", "field"),
        [
            (lambda b: quiz(b).update(questions=[]), "lectures[1].topics[0].questions"),
            (
                lambda b: quiz(b)["questions"][0]["choices"][0].update(is_correct=False),
                "lectures[1].topics[0].questions[0].choices",
            ),
            (
                lambda b: article(b).update(questions=quiz(b)["questions"]),
                "lectures[0].topics[0].questions",
            ),
            (lambda b: article(b).update(type="podcast"), "lectures[0].topics[0].type"),
            (lambda b: b.update(price=-1), "price"),
            (lambda b: b.update(category="nope"), "category"),
            (lambda b: b["lectures"][0].update(title=7), "lectures[0].title"),
        ],
        ids=[
            "quiz-without-questions",
            "no-correct-choice",
            "questions-on-article",
            "bad-type",
            "negative-price",
            "unknown-category",
            "title-not-a-string",
        ],
    )
    def test_an_error_anywhere_in_the_tree_writes_nothing(self, tutor, mutate, field):
        body = course_body()
        mutate(body)
        response = client_for(tutor).post("/api/courses/", body)
        error = assert_error_envelope(response, 400, "validation_error")
        assert field in error["fields"], error
        assert not Course.objects.exists()
        assert not Topic.objects.exists()

    def test_students_and_anonymous_cannot_write(self, api_client, user):
        assert_error_envelope(client_for(user).post("/api/courses/", course_body()), 403)
        assert_error_envelope(api_client.post("/api/courses/", course_body()), 401)
        assert not Course.objects.exists()

    def test_put_keeps_named_children_reorders_and_deletes_the_rest(self, tutor):
        client = client_for(tutor)
        created = client.post("/api/courses/", course_body()).json()
        basics, check = created["lectures"]
        welcome, setup = basics["topics"]
        quiz_id = check["topics"][0]["id"]
        body = course_body(title="Renamed")
        body["lectures"] = [
            {"id": check["id"], "title": "Check first", "topics": [
                {"id": quiz_id, "title": "Quiz", "type": "quiz",
                 "questions": TREE[1]["topics"][0]["questions"]},
            ]},
            {"id": basics["id"], "title": "Basics", "topics": [
                {"id": setup["id"], "title": "Setup", "type": "video"},
                {"id": welcome["id"], "title": "Welcome", "type": "article", "is_preview": True},
                {"title": "New one", "type": "article"},
            ]},
        ]  # fmt: skip
        response = client.put(f"/api/courses/{created['id']}/", body)
        assert response.status_code == 200, response.content
        course = Course.objects.get()
        assert course.title == "Renamed"
        assert tree_of(course) == [
            (0, "Check first", [(0, "Quiz", "quiz")]),
            (
                1,
                "Basics",
                [(0, "Setup", "video"), (1, "Welcome", "article"), (2, "New one", "article")],
            ),
        ]
        assert Topic.objects.filter(pk__in=[welcome["id"], setup["id"], quiz_id]).count() == 3
        assert not Topic.objects.filter(title="Homework").exists()
        assert Question.objects.count() == 1

    def test_ids_from_another_course_are_refused(self, tutor):
        client = client_for(tutor)
        created = client.post("/api/courses/", course_body()).json()
        stranger = LectureFactory()
        body = {"lectures": [{"id": stranger.pk, "title": "Hijack"}]}
        response = client.patch(f"/api/courses/{created['id']}/", body)
        assert "lectures" in assert_error_envelope(response, 400)["fields"]
        stranger.refresh_from_db()
        assert stranger.title != "Hijack"
        assert Lecture.objects.filter(course_id=created["id"]).count() == 2

    def test_patch_without_lectures_leaves_the_tree_alone(self, tutor):
        client = client_for(tutor)
        created = client.post("/api/courses/", course_body()).json()
        response = client.patch(f"/api/courses/{created['id']}/", {"price": 1000})
        assert response.status_code == 200
        course = Course.objects.get()
        assert course.price == 1000
        assert course.lectures.count() == 2

    def test_another_tutor_cannot_edit_but_staff_can(self, staff_client):
        course = CourseFactory()
        other = client_for(TutorFactory())
        assert_error_envelope(other.patch(f"/api/courses/{course.pk}/", {"price": 1}), 403)
        assert staff_client.patch(f"/api/courses/{course.pk}/", {"price": 1}).status_code == 200
        course.refresh_from_db()
        assert course.price == 1

    def test_delete_is_refused_while_learners_are_enrolled(self, user):
        course = CourseFactory()
        EnrollmentFactory(course=course, user=user)
        client = client_for(course.tutor)
        assert_error_envelope(
            client.delete(f"/api/courses/{course.pk}/"), 409, "course_has_enrollments"
        )
        course.enrollments.update(revoked_at="2020-01-01T00:00:00Z")
        assert client.delete(f"/api/courses/{course.pk}/").status_code == 204
        assert not Course.objects.exists()


@pytest.mark.django_db
class TestCurriculums:
    def test_a_tutor_bundles_own_courses_in_order(self, tutor, api_client):
        first, second = CourseFactory(tutor=tutor), CourseFactory(tutor=tutor)
        response = client_for(tutor).post(
            "/api/curriculums/",
            {"title": "Track", "price": 50000, "is_published": True,
             "course_ids": [second.pk, first.pk]},
        )  # fmt: skip
        assert response.status_code == 201, response.content
        assert [c["id"] for c in response.json()["courses"]] == [second.pk, first.pk]
        listed = api_client.get("/api/curriculums/").json()["results"]
        assert [c["title"] for c in listed] == ["Track"]

    def test_someone_elses_course_or_an_unknown_id_is_400(self, tutor):
        foreign = CourseFactory()
        for ids in ([foreign.pk], [999999]):
            response = client_for(tutor).post(
                "/api/curriculums/", {"title": "Track", "course_ids": ids}
            )
            assert "course_ids" in assert_error_envelope(response, 400)["fields"]
        assert not Curriculum.objects.exists()

    def test_patch_and_delete_by_the_owner_only(self, tutor):
        course = CourseFactory(tutor=tutor)
        client = client_for(tutor)
        created = client.post("/api/curriculums/", {"title": "T", "course_ids": [course.pk]})
        url = f"/api/curriculums/{created.json()['id']}/"
        other = client_for(TutorFactory())
        assert_error_envelope(other.patch(url, {"title": "Mine now"}), 404)
        assert client.patch(url, {"title": "Renamed", "course_ids": []}).json()["courses"] == []
        assert client.delete(url).status_code == 204
        assert not Curriculum.objects.exists()

    @pytest.mark.parametrize("count", [2, 12])
    def test_list_runs_a_fixed_number_of_queries(
        self, api_client, django_assert_max_num_queries, count
    ):
        tutor = TutorFactory()
        for n in range(count):
            curriculum = Curriculum.objects.create(title=f"C{n}", tutor=tutor, is_published=True)
            curriculum.courses.add(CourseFactory(tutor=tutor), through_defaults={"position": 0})
        with django_assert_max_num_queries(3):
            body = api_client.get("/api/curriculums/", {"page_size": 100}).json()
        assert body["count"] == count


@pytest.mark.django_db
def test_a_students_quiz_view_never_holds_the_answers(user):
    topic = quiz_topic(questions=2)
    EnrollmentFactory(user=user, course=topic.lecture.course)
    body = client_for(user).get(f"/api/topics/{topic.pk}/").json()
    assert len(body["questions"]) == 2
    assert set(body["questions"][0]["choices"][0]) == {"id", "text"}
    assert "is_correct" not in str(body)

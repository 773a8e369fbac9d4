"""The published catalogue's hand-written page (courses.selectors.catalogue_sql) against the
list's definition (course_list with CourseFilter, through DRF's generic view): for every request
it answers, the same status and the same bytes; every other request is left to the generic view,
which answers as it always has (400s, 404 past the end, search and mine)."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory
from core.testing import CommittingAPIClient, assert_error_envelope
from courses.apis import courses as course_apis
from courses.models import Course, SkillLevel
from courses.selectors.catalogue import course_tree
from courses.selectors.catalogue_sql import PageRequest, published_page
from courses.serializers import CourseDetailSerializer
from courses.tests.factories import (
    CategoryFactory,
    CourseFactory,
    LectureFactory,
    TopicFactory,
)

LIST = "/api/courses/"


@pytest.fixture(autouse=True)
def _uncached(settings):
    settings.CATALOGUE_CACHE_SECONDS = 0


@pytest.fixture
def catalogue(db):
    """Fourteen published courses and two drafts: prices and creation instants shared by several
    (ties), two categories and none, every skill level, a thumbnail, a tutor without a name,
    courses without lectures and lectures without topics."""
    web, data = CategoryFactory(slug="web"), CategoryFactory(slug="data")
    nameless = TutorFactory(name="")
    instant = timezone.now() - timedelta(days=1)
    levels = list(SkillLevel.values)
    for n in range(14):
        course = CourseFactory(
            title=f"Course {n:02}",
            category=(web, data, None)[n % 3],
            skill_level=levels[n % len(levels)],
            price=(0, 10000, 10000, 25000)[n % 4],
            tutor=nameless if n % 5 == 0 else TutorFactory(),
            thumbnail="thumbnails/cover.png" if n == 3 else "",
        )
        if n % 2:  # half share one creation instant (the default order's ties)
            Course.objects.filter(pk=course.pk).update(created_at=instant)
        for position in range(n % 3):
            lecture = LectureFactory(course=course, position=position)
            for topic_position in range(position):
                TopicFactory(lecture=lecture, position=topic_position)
    CourseFactory(title="Draft", is_published=False, category=web)
    CourseFactory(title="Another draft", is_published=False, price=0)


def fetched(query: dict, *, hand_written: bool, monkeypatch, client=None):
    if not hand_written:
        monkeypatch.setattr(course_apis, "_published_page", lambda request: None)
    response = (client or CommittingAPIClient()).get(LIST, query)
    monkeypatch.undo()
    return response.status_code, response.content


ORDERING_FIELDS = ("price", "-price", "created_at", "-created_at")
ANSWERED = [
    {},
    {"page_size": "9"},
    {"page_size": "5", "page": "2"},
    {"page_size": "5", "page": "3"},  # the last, short page
    {"page_size": "100"},
    {"category": "web"},
    {"category": "data", "page_size": "2", "page": "2"},
    *({"skill_level": level} for level in SkillLevel.values),
    *({"ordering": field, "page_size": "4", "page": "2"} for field in ORDERING_FIELDS),
    {"category": "web", "skill_level": "beginner", "ordering": "-price"},
]


@pytest.mark.parametrize("query", ANSWERED, ids=lambda query: urlencode(query) or "none")
def test_every_plain_page_is_the_generic_list_s_answer_in_one_query(catalogue, query, monkeypatch):
    generic = fetched(query, hand_written=False, monkeypatch=monkeypatch)
    answered = []
    real = course_apis._published_page
    monkeypatch.setattr(
        course_apis, "_published_page", lambda request: answered.append(1) or real(request)
    )
    with CaptureQueriesContext(connection) as queries:
        response = CommittingAPIClient().get(LIST, query)
    assert (response.status_code, response.content) == generic
    assert answered and len(queries) == 1


LEFT_TO_THE_GENERIC_VIEW = [
    {"page": "9"},  # past the end: 404
    {"page": "1024819115206086201"},  # an offset beyond any bigint
    {"page": "99999999999999999999"},
    {"page": "last"},
    {"page": "0"},
    {"page_size": "0"},
    {"page_size": "101"},
    {"page_size": "09"},
    {"skill_level": "wizard"},  # 400
    {"ordering": "title"},  # 400
    {"ordering": "price,id"},
    {"category": "nothing-here"},  # an empty page
    {"category": ""},
    {"search": "Course 1"},
    {"mine": "true"},
    {"page_size": "3", "utm_source": "mail"},
]


@pytest.mark.parametrize("query", LEFT_TO_THE_GENERIC_VIEW, ids=urlencode)
def test_every_other_request_gets_the_generic_list_s_answer(catalogue, query, monkeypatch):
    client = client_for(TutorFactory()) if "mine" in query else None
    generic = fetched(query, hand_written=False, monkeypatch=monkeypatch, client=client)
    assert fetched(query, hand_written=True, monkeypatch=monkeypatch, client=client) == generic


def test_ties_keep_one_order_from_page_to_page(catalogue, monkeypatch):
    """Prices and instants are shared: reading page after page never repeats or skips a course,
    whichever path answers."""
    published = sorted(Course.objects.filter(is_published=True).values_list("pk", flat=True))
    for hand_written in (True, False):
        for ordering in (*ORDERING_FIELDS, ""):
            seen = []
            for page in range(1, 6):
                query = {"page_size": "3", "page": str(page), "ordering": ordering}
                status, body = fetched(
                    {k: v for k, v in query.items() if v},
                    hand_written=hand_written,
                    monkeypatch=monkeypatch,
                )
                assert status == 200
                seen += [course["id"] for course in json.loads(body)["results"]]
            assert sorted(seen) == published, (hand_written, ordering)


def test_drafts_are_never_listed_not_even_to_their_tutor(catalogue):
    draft = Course.objects.get(title="Draft")
    courses, total = published_page(PageRequest(size=100))
    assert total == 14 and draft.pk not in [course.pk for course in courses]
    response = client_for(draft.tutor).get(LIST, {"page_size": "100"})
    assert "Draft" not in [course["title"] for course in response.json()["results"]]


@pytest.mark.parametrize(
    "fields",
    [
        {"skill_level": "wizard"},
        {"ordering": "title"},
        {"number": 0},
        {"size": 0},
        {"size": 101},
        {"number": 2**62, "size": 9},
        {"category": ""},
        {"category": "a b"},
    ],
    ids=str,
)
def test_a_page_request_takes_valid_values_only(fields):
    with pytest.raises(ValueError):
        PageRequest(**fields)


@pytest.mark.parametrize(
    "category",
    ["web' OR 1=1 --", "web%", "we_", "WEB", "\uff57\uff45\uff42", "web\x00", "web\n"],
    ids=["injection", "wildcard", "one-character-wildcard", "case", "fullwidth", "nul", "newline"],
)
def test_a_category_is_matched_exactly_and_only_as_a_value(catalogue, category, monkeypatch):
    """Only a slug goes into the statement (as a parameter); anything else is the generic
    view's to answer (an empty page, or a 400 for a NUL)."""
    generic = fetched({"category": category}, hand_written=False, monkeypatch=monkeypatch)
    assert fetched({"category": category}, hand_written=True, monkeypatch=monkeypatch) == generic
    assert generic[0] in (200, 400)
    if category.isascii() and category.replace("_", "").isalnum():
        assert published_page(PageRequest(category=category)) == ([], 0)
    else:
        with pytest.raises(ValueError):
            PageRequest(category=category)


def test_every_outline_is_the_tree_s_rendering_in_two_queries(catalogue):
    """Courses without a category, thumbnail, tutor's name, lectures or topics included."""
    anonymous = AnonymousUser()
    for course in Course.objects.filter(is_published=True):
        with CaptureQueriesContext(connection) as queries:
            response = CommittingAPIClient().get(f"{LIST}{course.pk}/")
        assert len(queries) == 2
        tree = course_tree(user=anonymous, course_id=course.pk)
        request = APIRequestFactory().get(f"{LIST}{course.pk}/")
        expected = CourseDetailSerializer(tree, context={"request": request}).data
        assert response.json() == json.loads(json.dumps(expected))


@pytest.mark.parametrize(
    ("reader", "status"),
    [("anonymous", 404), ("another tutor", 404), ("its tutor", 200), ("staff", 200)],
)
def test_a_draft_s_outline_is_its_tutor_s_and_staff_s_only(catalogue, reader, status):
    draft = Course.objects.get(title="Draft")
    clients = {
        "anonymous": CommittingAPIClient(),
        "another tutor": client_for(TutorFactory()),
        "its tutor": client_for(draft.tutor),
        "staff": client_for(StaffFactory()),
    }
    response = clients[reader].get(f"{LIST}{draft.pk}/")
    assert response.status_code == status
    if status == 404:
        assert_error_envelope(response, 404, "not_found")


@pytest.mark.parametrize("course_id", [0, 2**63 - 1, 2**63, 10**30])
def test_an_outline_of_an_id_no_row_can_have_is_404(db, course_id):
    assert_error_envelope(CommittingAPIClient().get(f"{LIST}{course_id}/"), 404, "not_found")

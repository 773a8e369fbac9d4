"""SQL-ish, wildcard and unicode strings in every free-text field and in search and filter
parameters: stored exactly as given (read back from the database) or 400 naming the field,
never a 500. NUL (which PostgreSQL cannot store in text) and lone surrogates must be 400.

The accounts fields (username, name, login, the user directory's search) are covered in
accounts/tests/test_bad_input.py; here are the other apps' fields.
"""

import json

import pytest
from django.db.models import Model

from accounts.models import CustomUser, Team
from core.testing import assert_error_envelope
from courses.models import Course, Curriculum, Submission, Topic
from payments.models import BillingAddress
from tests.security_cases import db_rows, send
from videos.models import Video
from votes.models import Candidate, Poll

pytestmark = pytest.mark.django_db


LONG = "ㄱ" * 10_240  # 10 K characters, 30 KB of UTF-8
# name: (JSON text of the value, the Python string it decodes to, or None when it must be 400)
STRINGS = {
    "sql-or": "' OR 1=1 --",
    "sql-drop-table": '"; DROP TABLE accounts_customuser; --',
    "percent": "%",
    "underscore": "_",
    "backslash": "\\",
    "quotes-and-semicolons": "'\";`--/*",
    "nul": "a\x00b",
    "rtl-override": "abc\u202edef",
    "zero-width-joiners-and-bom": "a\u200bb\u200dc\ufeffd",
    "emoji": "😀👍🏽🇰🇷",
    "hangul-and-4-byte-cjk": "한국어 𠜎𠜱",
    "ten-kilobytes": LONG,
}
MUST_REFUSE = {"nul"}
# JSON that Python would not produce: a lone surrogate escape.
LONE_SURROGATE = '"abc\\ud800def"'

POLL = {
    "kind": "general",
    "title": "Poll",
    "opens_at": "2030-01-01T00:00:00Z",
    "closes_at": "2030-01-02T00:00:00Z",
}


def _tree(body: str) -> dict:
    return {
        "title": "Tree",
        "lectures": [{"title": "L", "topics": [{"title": "T", "type": "article", "body": body}]}],
    }


def _created(model: type[Model], attr: str):
    return lambda world, response: getattr(
        model._default_manager.get(pk=response.json()["id"]), attr
    )


def _existing(model: type[Model], id_name: str, attr: str):
    return lambda world, response: getattr(model._default_manager.get(pk=world.ids[id_name]), attr)


def _topic_body(world, response):
    return Topic.objects.get(lecture__course_id=response.json()["id"]).body


# name: (actor, method, path, body builder taking the value, max_length, read back)
FIELDS = {
    "team-name": (
        "staff",
        "POST",
        "/api/teams/",
        lambda v: {"name": v},
        50,
        _created(Team, "name"),
    ),
    "team-description": (
        "staff",
        "POST",
        "/api/teams/",
        lambda v: {"name": "T", "description": v},
        2000,
        _created(Team, "description"),
    ),
    "poll-title": (
        "staff",
        "POST",
        "/api/polls/",
        lambda v: {**POLL, "title": v},
        120,
        _created(Poll, "title"),
    ),
    "poll-description": (
        "staff",
        "POST",
        "/api/polls/",
        lambda v: {**POLL, "description": v},
        5000,
        _created(Poll, "description"),
    ),
    "candidate-name": (
        "attacker",
        "POST",
        "/api/polls/{poll}/candidates/",
        lambda v: {"name": v},
        80,
        _created(Candidate, "name"),
    ),
    "candidate-pitch": (
        "attacker",
        "POST",
        "/api/polls/{poll}/candidates/",
        lambda v: {"name": "C", "pitch": v},
        2000,
        _created(Candidate, "pitch"),
    ),
    "course-title": (
        "tutor",
        "POST",
        "/api/courses/",
        lambda v: {"title": v},
        200,
        _created(Course, "title"),
    ),
    "course-short-description": (
        "tutor",
        "POST",
        "/api/courses/",
        lambda v: {"title": "C", "short_description": v},
        300,
        _created(Course, "short_description"),
    ),
    "course-description": (
        "tutor",
        "POST",
        "/api/courses/",
        lambda v: {"title": "C", "description": v},
        20000,
        _created(Course, "description"),
    ),
    "topic-body-in-a-tree": ("tutor", "POST", "/api/courses/", _tree, 100_000, _topic_body),
    "curriculum-description": (
        "tutor",
        "POST",
        "/api/curriculums/",
        lambda v: {"title": "B", "description": v},
        20000,
        _created(Curriculum, "description"),
    ),
    "submission-text": (
        "classmate",
        "POST",
        "/api/topics/{assignment}/submissions/",
        lambda v: {"text": v},
        50000,
        _created(Submission, "text"),
    ),
    "grade-feedback": (
        "tutor",
        "PATCH",
        "/api/submissions/{submission}/",
        lambda v: {"grade": 80, "feedback": v},
        20000,
        _existing(Submission, "submission", "feedback"),
    ),
    "video-title": (
        "tutor",
        "PATCH",
        "/api/videos/{video}/",
        lambda v: {"title": v},
        200,
        _existing(Video, "video", "title"),
    ),
    "address-name": (
        "attacker",
        "POST",
        "/api/billing-addresses/",
        lambda v: {"name": v, "line1": "L"},
        100,
        _created(BillingAddress, "name"),
    ),
    "address-line1": (
        "attacker",
        "POST",
        "/api/billing-addresses/",
        lambda v: {"name": "N", "line1": v},
        200,
        _created(BillingAddress, "line1"),
    ),
    "address-line2": (
        "owner",
        "PATCH",
        "/api/billing-addresses/{address}/",
        lambda v: {"line2": v},
        200,
        _existing(BillingAddress, "address", "line2"),
    ),
    "address-phone": (
        "attacker",
        "POST",
        "/api/billing-addresses/",
        lambda v: {"name": "N", "line1": "L", "phone": v},
        30,
        _created(BillingAddress, "phone"),
    ),
    "profile-introduction": (
        "owner",
        "PATCH",
        "/api/users/me/",
        lambda v: {"introduction": v},
        1000,
        _existing(CustomUser, "owner", "introduction"),
    ),
}


def _send(world, field: str, body_text: str):
    actor, method, path, _build, _max, _read = FIELDS[field]
    return send(world.client(actor), method, world.path(path), body_text)


def _assert_400_naming(world, field: str, response, before) -> None:
    error = assert_error_envelope(response, 400, "validation_error")
    assert error["fields"], error
    assert db_rows() == before


@pytest.mark.parametrize("string", STRINGS)
@pytest.mark.parametrize("field", FIELDS)
def test_a_hostile_string_is_stored_exactly_or_400_never_500(world, field, string):
    _actor, _method, _path, build, max_length, read_back = FIELDS[field]
    value = STRINGS[string]
    before = db_rows()
    response = _send(world, field, json.dumps(build(value)))
    if string in MUST_REFUSE or len(value) > max_length:
        _assert_400_naming(world, field, response, before)
        return
    assert 200 <= response.status_code < 300, response.content[:300]
    assert read_back(world, response) == value


@pytest.mark.parametrize("field", FIELDS)
def test_a_lone_surrogate_is_400_never_500(world, field):
    """JSON allows "\\ud800" on its own; no UTF-8 text can hold it, so no database can."""
    build = FIELDS[field][3]
    marker = "SURROGATE-GOES-HERE"
    body = json.dumps(build(marker)).replace(f'"{marker}"', LONE_SURROGATE)
    before = db_rows()
    _assert_400_naming(world, field, _send(world, field, body), before)


# --- Search and filter parameters ---------------------------------------------------------------

QUERIES = {
    "course-search": ("attacker", "/api/courses/", "search"),
    "course-category": ("anon", "/api/courses/", "category"),
    "course-ordering": ("anon", "/api/courses/", "ordering"),
    "course-skill-level": ("anon", "/api/courses/", "skill_level"),
    "course-mine": ("rival", "/api/courses/", "mine"),
    "poll-kind": ("anon", "/api/polls/", "kind"),
    "poll-state": ("attacker", "/api/polls/", "state"),
    "poll-part": ("anon", "/api/polls/", "part"),
    "user-role": ("staff", "/api/users/", "role"),
    "user-part": ("staff", "/api/users/", "part"),
    "watch-history-user": ("staff", "/api/videos/{video}/events/", "user"),
    "submissions-all": ("tutor", "/api/topics/{assignment}/submissions/", "all"),
    "orders-page": ("owner", "/api/orders/", "page"),
    "orders-page-size": ("owner", "/api/orders/", "page_size"),
}
QUERY_STRINGS = {**STRINGS, "lone-surrogate-percent-encoded": "%ED%A0%80"}


@pytest.mark.parametrize("string", QUERY_STRINGS)
@pytest.mark.parametrize("query", QUERIES)
def test_a_hostile_search_or_filter_value_is_200_or_4xx_never_500(world, query, string):
    actor, path, parameter = QUERIES[query]
    value = QUERY_STRINGS[string]
    before = db_rows()
    client = world.client(actor)
    if string.startswith("lone-surrogate"):
        response = client.get(f"{world.path(path)}?{parameter}={value}")
    else:
        response = client.get(world.path(path), {parameter: value})
    if response.status_code == 200:
        results = response.json()["results"]
        if query in ("course-search", "course-category"):
            assert results == [], "wildcards and quotes must match literally, and nothing does"
    else:
        assert response.status_code in (400, 404), response.content[:300]
        assert_error_envelope(response, response.status_code)
    if string == "nul" and query in ("course-search", "course-category"):
        # Compared with text columns: PostgreSQL would refuse the NUL with an error.
        assert response.status_code == 400, response.content[:300]
    assert db_rows() == before


@pytest.mark.parametrize("search", ["%", "_", "' OR 1=1 --", "\\"])
def test_search_wildcards_and_quotes_match_only_literally(world, search):
    """The control: a course that contains the text is found, the others are not."""
    course = Course.objects.get(pk=world.ids["course"])
    Course.objects.filter(pk=course.pk).update(title=f"Learn {search} today")
    response = world.client("attacker").get("/api/courses/", {"search": search})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [course.pk]

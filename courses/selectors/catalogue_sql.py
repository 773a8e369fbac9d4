"""The catalogue's public reads in hand-written statements: a page of the published list (one
statement) and a course's outline (two).

These are what a write makes cold for every reader at once. Through the ORM (and django-filter
for the list) a list page cost some 4 ms of CPU per request and an outline 2.5, most of it
building and compiling queries and validating the filter form (bench/README.md, "Where the time
goes"); here there is almost no Python besides the round trips. The ORM's versions remain the
definition: `courses.selectors.catalogue.course_list` with `courses.filters.CourseFilter` for the
list, `course_tree` for the outline, and courses/tests/test_catalogue_sql.py and
test_serializers.py hold every answer given here to theirs.
"""

import functools
import re
from dataclasses import dataclass

from django.db import connection
from django.http import Http404

from accounts.models import CustomUser
from core.pagination import PageNumberPagination
from core.serializers import MAX_ID
from courses.models import Category, Course, Lecture, SkillLevel, Topic
from courses.selectors.enrollments import course_is_visible

SLUG = re.compile(r"[-a-zA-Z0-9_]+")  # what a Category.slug (a SlugField) can hold

# `?ordering=` values (CourseFilter's fields, either way) and the default; the id breaks ties.
ORDERINGS = {
    None: "created_at DESC, id",
    "created_at": "created_at, id",
    "-created_at": "created_at DESC, id",
    "price": "price, id",
    "-price": "price DESC, id",
}


# What a list item and an outline show of a course (courses.serializers._course_summary), FROM
# the course `c` with its category `cat` and tutor `u`.
SUMMARY = (
    "c.id, c.title, c.short_description, c.skill_level, c.price, c.thumbnail, c.is_published, "
    "c.created_at, c.category_id, cat.name AS category_name, cat.slug, c.tutor_id, u.username, "
    "u.name"
)


@dataclass(frozen=True)
class PageRequest:
    """What a page of the published catalogue is asked for with, valid values only."""

    category: str | None = None
    skill_level: str | None = None
    ordering: str | None = None
    number: int = 1
    size: int = 20

    def __post_init__(self) -> None:
        if self.category is not None and not SLUG.fullmatch(self.category):
            raise ValueError(f"no category can have the slug {self.category!r}")
        if self.skill_level is not None and self.skill_level not in SkillLevel.values:
            raise ValueError(f"no skill level {self.skill_level!r}")
        if self.ordering not in ORDERINGS:
            raise ValueError(f"no ordering {self.ordering!r}")
        if self.number < 1 or not 1 <= self.size <= PageNumberPagination.max_page_size:
            raise ValueError("pages count from 1, and hold 1 to max_page_size items")
        if (self.number - 1) * self.size > MAX_ID:  # no bigint OFFSET can say it (404 anyway)
            raise ValueError(f"no page {self.number} of {self.size}")


def published_page(asked: PageRequest) -> tuple[list[Course], int]:
    """The page's courses, with `category`, `tutor`, `lecture_count` and `topic_count` as
    courses.selectors.catalogue.course_list gives them, and how many published courses match
    (0 when the page is empty: past the end, or nothing matches)."""
    filters, params = ["c.is_published"], list[str | int]()
    if asked.category is not None:
        filters.append("cat.slug = %s")
        params.append(asked.category)
    if asked.skill_level is not None:
        filters.append("c.skill_level = %s")
        params.append(asked.skill_level)
    params += [asked.size, (asked.number - 1) * asked.size]
    sql = _statement(" AND ".join(filters), ORDERINGS[asked.ordering])
    courses = _with_category_and_tutor(list(Course.objects.raw(sql, params)))
    return courses, (courses[0].__dict__["total"] if courses else 0)


def course_outline(*, user, course_id: int) -> Course:
    """The course as its public outline shows it (404 for another's draft), with its lectures
    and topics as rows (`outline_rows`: lecture id, title, position, then the topic's id, title,
    position, type and is_preview, None for a lecture without topics), in order, read by
    courses.serializers.CourseDetailSerializer without a model instance each."""
    if not 0 < course_id <= MAX_ID:
        raise Http404  # no row has it (and SQLite cannot even compare it)
    statements = _outline_statements()
    course = next(iter(Course.objects.raw(statements[0], [course_id])), None)
    if course is None or not course_is_visible(user, course):
        raise Http404
    with connection.cursor() as cursor:
        cursor.execute(statements[1], [course_id])
        course.outline_rows = cursor.fetchall()  # type: ignore[attr-defined]
    return _with_category_and_tutor([course])[0]


def _with_category_and_tutor(courses: list[Course]) -> list[Course]:
    """Each course's category and tutor made of the columns SUMMARY selects with it."""
    for course in courses:
        extra = course.__dict__  # the joined columns that are not the course's own fields
        course.category = (
            Category(id=course.category_id, name=extra["category_name"], slug=extra["slug"])
            if course.category_id is not None
            else None
        )
        course.tutor = CustomUser(
            id=course.tutor_id, username=extra["username"], name=extra["name"]
        )
    return courses


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    models = {"courses": Course, "categories": Category, "users": CustomUser}
    models |= {"lectures": Lecture, "topics": Topic}
    return {name: quote(model._meta.db_table) for name, model in models.items()}


def _summary_from() -> str:
    tables = _tables()
    return (
        f"FROM {tables['courses']} c LEFT JOIN {tables['categories']} cat "
        f"ON cat.id = c.category_id JOIN {tables['users']} u ON u.id = c.tutor_id"
    )


@functools.cache
def _outline_statements() -> tuple[str, str]:
    """The course, and its lectures and topics as rows (an outer join: a lecture without topics
    is one row). Table names from the models' meta; every value is a parameter."""
    tables = _tables()
    course = (
        f"SELECT {SUMMARY}, c.description, c.updated_at "
        f"{_summary_from()} WHERE c.id = %s"  # nosec B608
    )
    rows = (
        "SELECT l.id, l.title, l.position, t.id, t.title, t.position, t.type, t.is_preview "  # noqa: S608
        f"FROM {tables['lectures']} l LEFT JOIN {tables['topics']} t ON t.lecture_id = l.id "  # nosec B608
        "WHERE l.course_id = %s ORDER BY l.position, t.position"
    )
    return course, rows


@functools.cache
def _statement(where: str, order: str) -> str:
    """Filters and ordering come from the fixed texts above; every value is a parameter."""
    tables = _tables()
    inner_order = ", ".join(f"c.{term}" for term in order.split(", "))
    # The page is cut first, then each of its courses has its lectures and topics counted, the
    # topics lecture by lecture: one index probe each, where counting a join of topics and
    # lectures made PostgreSQL scan every topic once per course (1.1 against 0.37 ms).
    return (
        "SELECT page.*, (SELECT COUNT(*) "  # noqa: S608
        f"FROM {tables['lectures']} l WHERE l.course_id = page.id) AS lecture_count, "  # nosec B608
        "(SELECT CAST(COALESCE(SUM("
        f"(SELECT COUNT(*) FROM {tables['topics']} t WHERE t.lecture_id = l.id)), 0) AS INTEGER) "
        f"FROM {tables['lectures']} l WHERE l.course_id = page.id) AS topic_count "
        f"FROM (SELECT {SUMMARY}, COUNT(*) OVER () AS total {_summary_from()} WHERE {where} "
        f"ORDER BY {inner_order} LIMIT %s OFFSET %s) page "
        f"ORDER BY {order}"
    )

"""Writing a course's tree (lectures, topics, quiz questions and their choices) in one go.

A tree is validated as a whole and written in one transaction: an error anywhere writes
nothing. Children named by `id` are updated in place (so progress and attempts that point at
them survive; a field the item leaves out keeps its value), children without `id` are created,
and children left out are deleted. Positions follow the order of the lists, so they are always
0..n-1 without gaps or duplicates.

The tree is written a level at a time (lectures, topics, questions, choices), each with a few
bulk statements, and only rows that change are written: the number of queries does not grow with
the tree. Its size is capped by COURSE_MAX_LECTURES, COURSE_MAX_TOPICS, COURSE_MAX_QUESTIONS and
QUIZ_MAX_QUESTIONS.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from courses.models import Choice, Course, Lecture, Question, Topic, TopicType

QUESTION_MAX_CHOICES = 10
MAX_LECTURES = _("A course may have at most %(max)d lectures.")
MAX_TOPICS = _("A course may have at most %(max)d topics.")
MAX_QUESTIONS = _("A course may have at most %(max)d quiz questions.")
MAX_QUIZ_QUESTIONS = _("A quiz may have at most %(max)d questions.")
MAX_CHOICES = _("A question may have at most %(max)d choices.")
# Positions that change are moved out of the way first, so that reordering never trips the
# unique (parent, position) constraints halfway through.
_POSITION_OFFSET = 30000
_BATCH_SIZE = 1000


@dataclass(frozen=True)
class _Level:
    model: type[models.Model]
    parent_field: str
    course_lookup: str  # from this model to its course
    fields: tuple[str, ...]  # written when the item gives them
    children: str | None  # the key of the next level's items


_LEVELS = (
    _Level(Lecture, "course", "course", ("title",), "topics"),
    _Level(
        Topic, "lecture", "lecture__course", ("title", "type", "is_preview", "body"), "questions"
    ),
    _Level(Question, "topic", "topic__lecture__course", ("prompt", "explanation"), "choices"),
    _Level(Choice, "question", "question__topic__lecture__course", ("text", "is_correct"), None),
)
_TOPICS, _QUESTIONS, _CHOICES = 1, 2, 3


def _children(item, key: str) -> list:
    value = item.get(key) if isinstance(item, dict) else None
    return value if isinstance(value, list) else []


def course_tree_size_errors(lectures) -> dict[str, list[str]]:
    """The caps on a tree's size, by path. Reads raw input as well as validated input, so that
    an oversized body is refused before its items are validated one by one."""
    errors: dict[str, list[str]] = {}

    def cap(path: str, count: int, limit: int, message) -> None:
        if count > limit:
            errors.setdefault(path, []).append(str(message % {"max": limit}))

    lectures = lectures if isinstance(lectures, list) else []
    topics = [
        (f"lectures[{li}].topics[{ti}].questions", topic)
        for li, lecture in enumerate(lectures)
        for ti, topic in enumerate(_children(lecture, "topics"))
    ]
    cap("lectures", len(lectures), settings.COURSE_MAX_LECTURES, MAX_LECTURES)
    cap("lectures", len(topics), settings.COURSE_MAX_TOPICS, MAX_TOPICS)
    question_count = 0
    for path, topic in topics:
        questions = _children(topic, "questions")
        question_count += len(questions)
        cap(path, len(questions), settings.QUIZ_MAX_QUESTIONS, MAX_QUIZ_QUESTIONS)
        for qi, question in enumerate(questions):
            choices = _children(question, "choices")
            cap(f"{path}[{qi}].choices", len(choices), QUESTION_MAX_CHOICES, MAX_CHOICES)
    cap("lectures", question_count, settings.COURSE_MAX_QUESTIONS, MAX_QUESTIONS)
    return errors


def _stored_tree(course: Course) -> list[dict[int, models.Model]]:
    """Every stored row of the course's tree, per level, by id (one query a level)."""
    return [
        {
            row.pk: row
            for row in level.model._default_manager.filter(**{level.course_lookup: course})
        }
        for level in _LEVELS
    ]


def _tree_errors(
    *, course: Course, lectures: list[dict], stored: list[dict]
) -> dict[str, list[str | Promise]]:
    """Ids that are not the stored children of their parent (or repeat), and the rules that span
    several items; the serializers checked each item alone."""
    errors: dict[str, list[str | Promise]] = {}

    def walk(depth: int, parent_pk: int | None, items: list[dict], path: str) -> None:
        level = _LEVELS[depth]
        known, unknown = set(), []
        for item in items:
            pk = item.get("id")
            row = stored[depth].get(pk) if pk is not None else None
            if row is not None and getattr(row, f"{level.parent_field}_id") == parent_pk:
                if pk in known:
                    unknown.append(pk)
                known.add(pk)
            elif pk is not None:
                unknown.append(pk)
        if unknown:
            errors.setdefault(path, []).append(
                _("Unknown or repeated ids: %(ids)s") % {"ids": unknown}
            )
        for index, item in enumerate(items):
            here = f"{path}[{index}]"
            pk = item.get("id") if item.get("id") in known else None
            if depth == _TOPICS:
                _topic_errors(item, here, errors)
            elif depth == _QUESTIONS:
                _question_errors(item, pk, here, stored[_CHOICES], errors)
            if level.children:
                walk(depth + 1, pk, item.get(level.children, []), f"{here}.{level.children}")

    walk(0, course.pk, lectures, "lectures")
    return errors


def _topic_errors(topic: dict, path: str, errors: dict) -> None:
    questions = topic.get("questions", [])
    if topic["type"] != TopicType.QUIZ and questions:
        errors.setdefault(f"{path}.questions", []).append(_("Only quiz topics have questions."))
    if topic["type"] == TopicType.QUIZ and not questions:
        errors.setdefault(f"{path}.questions", []).append(_("A quiz needs at least one question."))


def _question_errors(question: dict, pk: int | None, path: str, stored: dict, errors) -> None:
    choices = question.get("choices", [])

    def is_correct(choice: dict) -> bool:
        # Left out: the stored value of a choice of this question, false for a new one.
        if "is_correct" in choice:
            return choice["is_correct"]
        row = stored.get(choice.get("id"))
        return bool(row is not None and pk is not None and row.question_id == pk and row.is_correct)

    if len(choices) < 2:
        errors.setdefault(f"{path}.choices", []).append(_("A question needs at least two choices."))
    elif not any(is_correct(choice) for choice in choices):
        errors.setdefault(f"{path}.choices", []).append(_("At least one choice must be correct."))


def _tree_write(*, course: Course, lectures: list[dict], stored: list[dict]) -> None:
    """Make the stored tree exactly `lectures`, a level at a time: deletes, moves, updates and
    inserts each in bulk, touching only the rows that change."""
    parents: list[tuple[models.Model, list[dict]]] = [(course, lectures)]
    parents_kept = {course.pk}
    for depth, level in enumerate(_LEVELS):
        created, changed, moved, kept, changed_fields, next_parents = [], [], [], set(), set(), []
        for parent, items in parents:
            for position, item in enumerate(items):
                values = {field: item[field] for field in level.fields if field in item}
                if item.get("id") is None:
                    row = level.model(**{level.parent_field: parent}, position=position, **values)
                    created.append(row)
                else:
                    row = stored[depth][item["id"]]
                    kept.add(row.pk)
                    fields = {
                        field for field, value in values.items() if getattr(row, field) != value
                    }
                    if row.position != position:
                        moved.append(row.pk)
                        fields.add("position")
                    for field, value in {**values, "position": position}.items():
                        setattr(row, field, value)
                    if fields:
                        changed.append(row)
                        changed_fields |= fields
                if level.children:
                    next_parents.append((row, item.get(level.children, [])))
        parent_attname = f"{level.parent_field}_id"
        gone = [
            pk
            for pk, row in stored[depth].items()
            if pk not in kept and getattr(row, parent_attname) in parents_kept
        ]
        manager = level.model._default_manager
        if gone:
            manager.filter(pk__in=gone).delete()
        if moved:
            manager.filter(pk__in=moved).update(position=F("position") + _POSITION_OFFSET)
        if changed:
            _update_rows(level.model, changed, sorted(changed_fields))
        manager.bulk_create(created, batch_size=_BATCH_SIZE)
        parents, parents_kept = next_parents, kept


def _update_rows(model: type[models.Model], rows: list, fields: list[str]) -> None:
    """Store `fields` of `rows` with one UPDATE ... FROM (VALUES ...) a batch (PostgreSQL and
    SQLite). bulk_update() builds a CASE WHEN per row and field, which costs about a millisecond
    a row in Python: seconds for a tree at the caps."""
    columns = [_stored_field(model, name) for name in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk_column = _stored_field(model, model._meta.pk.name)[1]
    match = f"{table}.{quote(pk_column)} = v.column1"
    casts = "".join(f", CAST(%s AS {field.cast_db_type(connection)})" for field, _column in columns)
    assignments = ", ".join(
        f"{quote(column)} = v.column{index}"
        for index, (_field, column) in enumerate(columns, start=2)
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH_SIZE):
            batch = rows[start : start + _BATCH_SIZE]
            params = []
            for row in batch:
                params.append(row.pk)
                params += [field.get_db_prep_save(getattr(row, field.attname), connection)
                           for field, _column in columns]  # fmt: skip
            values = ", ".join([f"(%s{casts})"] * len(batch))
            # Only quoted names from the model's _meta go into the text; every value is a param.
            sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v WHERE {match}"  # noqa: S608  # nosec B608
            cursor.execute(sql, params)


def _stored_field(model: type[models.Model], name: str) -> tuple[models.Field, str]:
    """A field and its column; _LEVELS names only fields stored in a column of the model."""
    field = model._meta.get_field(name)
    # A concrete column, for the type checker.
    assert isinstance(field, models.Field) and field.column is not None, name  # nosec B101
    return field, field.column


def course_tree_replace(*, course: Course, lectures: list[dict], created: bool) -> None:
    """Make the stored tree of `course` exactly `lectures`, or raise a ValidationError naming
    each path that is wrong. Runs inside the transaction that saved (and so locked) the course
    row; `created`: the course has no tree yet."""
    stored = [{} for _level in _LEVELS] if created else _stored_tree(course)
    if errors := _tree_errors(course=course, lectures=lectures, stored=stored):
        raise ValidationError(errors)
    _tree_write(course=course, lectures=lectures, stored=stored)

"""Each courses operation lists the codes of the rules it may break as an enum at their status
(courses.errors, declared on the views with core.openapi.errors_of), so a typed client can switch
on them."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from core.testing import documented_error_codes
from courses import errors


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def codes(schema, path: str, method: str, status_code: str) -> list[str]:
    return documented_error_codes(schema["paths"][path][method]["responses"][status_code])


COURSE = "/api/courses/{course_id}/"
TOPIC = "/api/topics/{topic_id}/"
RULES = [
    ("/api/courses/", "post", "403", ["permission_denied"]),
    (COURSE, "put", "403", ["permission_denied"]),
    (COURSE, "patch", "403", ["permission_denied"]),
    (COURSE, "delete", "403", ["permission_denied"]),
    (COURSE, "delete", "409", ["course_has_enrollments", "course_has_orders"]),
    (COURSE + "edit/", "get", "403", ["permission_denied"]),
    (COURSE + "thumbnail/", "put", "400", ["invalid_image"]),
    (COURSE + "thumbnail/", "put", "413", ["request_too_large", "file_too_large"]),
    ("/api/curriculums/{curriculum_id}/", "delete", "409", ["curriculum_has_orders"]),
    (TOPIC, "get", "403", ["not_entitled"]),
    (TOPIC + "open/", "post", "403", ["permission_denied", "not_entitled"]),
    (TOPIC + "quiz-attempts/", "get", "400", ["not_a_quiz"]),
    (TOPIC + "quiz-attempts/", "get", "403", ["not_entitled"]),
    (TOPIC + "quiz-attempts/", "post", "400", ["not_a_quiz", "invalid_idempotency_key"]),
    (
        TOPIC + "quiz-attempts/",
        "post",
        "409",
        ["quiz_empty", "attempts_exhausted", "idempotency_key_reused"],
    ),
    (TOPIC + "submissions/", "get", "403", ["permission_denied", "not_entitled"]),
    (TOPIC + "submissions/", "post", "400", ["not_an_assignment", "invalid_file"]),
    (TOPIC + "submissions/", "post", "403", ["not_entitled"]),
    (TOPIC + "submissions/", "post", "409", ["already_graded"]),
    (TOPIC + "submissions/", "post", "413", ["file_too_large"]),
    ("/api/submissions/{submission_id}/", "patch", "403", ["permission_denied"]),
    ("/api/submissions/{submission_id}/file/", "get", "416", ["range_not_satisfiable"]),
]


@pytest.mark.parametrize(
    ("path", "method", "status_code", "expected"),
    RULES,
    ids=[f"{method} {path} {status}" for path, method, status, _codes in RULES],
)
def test_each_operation_lists_its_rules_codes(schema, path, method, status_code, expected):
    assert set(expected) <= set(codes(schema, path, method, status_code))


def test_a_rule_is_listed_only_where_it_can_happen(schema):
    assert "course_has_orders" not in str(schema["paths"]["/api/curriculums/{curriculum_id}/"])
    assert "409" not in schema["paths"][TOPIC + "open/"]["post"]["responses"]
    assert codes(schema, COURSE, "delete", "409") == ["course_has_enrollments", "course_has_orders"]


def test_every_rule_of_courses_is_declared_somewhere(schema):
    text = str(schema["paths"])
    rules = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.ApplicationError)
    ]
    assert len(rules) > 10
    for rule in rules:
        if rule is not errors.ApplicationError:
            assert f"'{rule.code}'" in text, rule.__name__

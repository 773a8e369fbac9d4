"""No credentials where they are needed is 401 `not_authenticated` (a frontend sends the user to
log in), with WWW-Authenticate as DRF sends it; signed in but not entitled is 403 `not_entitled`.
The same rule on every courses endpoint, and in the schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import assert_error_envelope, documented_error_codes
from courses.models import Curriculum, QuizAttempt, Submission, TopicProgress, TopicType
from courses.tests.factories import CourseFactory, LectureFactory, TopicFactory, quiz_topic

PREMIUM = "The premium article text."


@pytest.fixture
def scene(db):
    course = CourseFactory()
    lecture = LectureFactory(course=course)
    article = TopicFactory(lecture=lecture, body=PREMIUM)
    preview = TopicFactory(lecture=lecture, is_preview=True, body="Free sample.")
    quiz = quiz_topic(lecture=lecture)
    assignment = TopicFactory(lecture=lecture, type=TopicType.ASSIGNMENT)
    learner = UserFactory()
    submission = Submission.objects.create(user=learner, topic=assignment, text="Mine.")
    curriculum = Curriculum.objects.create(title="Track", tutor=course.tutor, is_published=True)
    return {
        "course": course.pk,
        "article": article.pk,
        "preview": preview.pk,
        "quiz": quiz.pk,
        "assignment": assignment.pk,
        "submission": submission.pk,
        "curriculum": curriculum.pk,
    }


NEEDS_LOGIN = [
    ("GET", "/api/topics/{article}/"),
    ("GET", "/api/topics/{quiz}/"),
    ("GET", "/api/topics/{assignment}/"),
    ("POST", "/api/topics/{article}/open/"),
    ("POST", "/api/topics/{preview}/open/"),
    ("GET", "/api/topics/{quiz}/quiz-attempts/"),
    ("POST", "/api/topics/{quiz}/quiz-attempts/"),
    ("GET", "/api/topics/{assignment}/submissions/"),
    ("POST", "/api/topics/{assignment}/submissions/"),
    ("PATCH", "/api/submissions/{submission}/"),
    ("GET", "/api/courses/{course}/edit/"),
    ("POST", "/api/courses/"),
    ("PUT", "/api/courses/{course}/"),
    ("PATCH", "/api/courses/{course}/"),
    ("DELETE", "/api/courses/{course}/"),
    ("PUT", "/api/courses/{course}/thumbnail/"),
    ("DELETE", "/api/courses/{course}/thumbnail/"),
    ("POST", "/api/curriculums/"),
    ("PATCH", "/api/curriculums/{curriculum}/"),
    ("DELETE", "/api/curriculums/{curriculum}/"),
    ("GET", "/api/me/enrollments/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), NEEDS_LOGIN, ids=[f"{m} {p}" for m, p in NEEDS_LOGIN])
def test_no_credentials_where_they_are_needed_is_401_not_authenticated(
    api_client, scene, method, path
):
    send = getattr(api_client, method.lower())
    path = path.format(**scene)
    response = send(path) if method == "GET" else send(path, {"title": "x"})

    assert_error_envelope(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert PREMIUM not in response.content.decode()
    assert not QuizAttempt.objects.exists()
    assert Submission.objects.count() == 1
    assert not TopicProgress.objects.exists()


@pytest.mark.django_db
def test_a_premium_topic_asks_an_anonymous_caller_to_log_in_and_records_nothing(api_client, scene):
    response = api_client.get(f"/api/topics/{scene['article']}/")

    error = assert_error_envelope(response, 401, "not_authenticated")
    assert error["message"] == "Authentication credentials were not provided."
    assert not TopicProgress.objects.exists()


@pytest.mark.django_db
def test_what_is_public_stays_open_to_anonymous_callers(api_client, scene):
    for path in (
        "/api/courses/",
        "/api/courses/{course}/",
        "/api/curriculums/",
        "/api/topics/{preview}/",
    ):
        assert api_client.get(path.format(**scene)).status_code == 200, path


@pytest.mark.django_db
def test_a_missing_topic_is_404_and_a_draft_topic_too_before_any_login(api_client):
    draft = TopicFactory(lecture=LectureFactory(course=CourseFactory(is_published=False)))
    assert_error_envelope(api_client.get("/api/topics/999999/"), 404, "not_found")
    assert_error_envelope(api_client.get(f"/api/topics/{draft.pk}/"), 404, "not_found")


NOT_ENTITLED = [
    ("GET", "/api/topics/{article}/"),
    ("POST", "/api/topics/{article}/open/"),
    ("GET", "/api/topics/{quiz}/quiz-attempts/"),
    ("POST", "/api/topics/{quiz}/quiz-attempts/"),
    ("GET", "/api/topics/{assignment}/submissions/"),
    ("POST", "/api/topics/{assignment}/submissions/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"), NOT_ENTITLED, ids=[f"{m} {p}" for m, p in NOT_ENTITLED]
)
def test_signed_in_but_not_entitled_is_403_not_entitled(scene, method, path):
    client = client_for(UserFactory())

    send = getattr(client, method.lower())
    path = path.format(**scene)
    response = send(path) if method == "GET" else send(path, {"text": "x"})

    assert_error_envelope(response, 403, "not_entitled")
    assert "WWW-Authenticate" not in response
    assert PREMIUM not in response.content.decode()
    assert not TopicProgress.objects.exists()


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/topics/{topic_id}/", "get"),
        ("/api/topics/{topic_id}/open/", "post"),
        ("/api/topics/{topic_id}/quiz-attempts/", "get"),
        ("/api/topics/{topic_id}/quiz-attempts/", "post"),
        ("/api/topics/{topic_id}/submissions/", "get"),
        ("/api/topics/{topic_id}/submissions/", "post"),
    ],
)
def test_the_schema_documents_401_and_403_not_entitled(schema, path, method):
    responses = schema["paths"][path][method]["responses"]
    assert "not_authenticated" in documented_error_codes(responses["401"])
    assert "not_entitled" in documented_error_codes(responses["403"])
    assert "not_entitled" in responses["403"]["description"]


def test_the_schema_documents_who_gets_the_editing_view(schema):
    """One shape per operation: the outline and the editing view are two operations."""
    outline = schema["paths"]["/api/courses/{course_id}/"]["get"]
    editing = schema["paths"]["/api/courses/{course_id}/edit/"]["get"]
    json_schema = {"$ref": "#/components/schemas/CourseDetail"}
    assert outline["responses"]["200"]["content"]["application/json"]["schema"] == json_schema
    assert editing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CourseEdit"
    }
    assert "not_authenticated" in documented_error_codes(editing["responses"]["401"])
    assert "permission_denied" in documented_error_codes(editing["responses"]["403"])

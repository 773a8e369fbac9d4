"""Mass assignment, authoring side: fields a client must never set (roles, verification flags,
password hashes, course owners, prices, read-only fields, ids of another tutor's lectures, topics,
questions and choices, upload owners and durations) sent in otherwise valid bodies are ignored or
refused with 400, and the database shows the server's values, never the client's.

accounts/tests/test_bad_input.py covers role, is_staff, is_superuser, is_active, id, groups,
permissions, email, password and last_login on register and PATCH /api/users/me/. What learners
send (orders, payments, votes, submissions) is in test_security_mass_assignment_activity.py.
"""

import io
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from accounts.models import CustomUser, Role
from accounts.tests.factories import TeamFactory, TutorFactory
from core.testing import CommittingAPIClient, assert_error_envelope
from courses.models import Course, Curriculum, Lecture, Topic
from courses.tests.factories import CourseFactory
from tests.security_cases import (
    MP4,
    assert_unchanged_except,
    db_rows,
    fill_ids,
    no_crash,
)
from videos.models import Image, Video

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Quartz-Lantern-42"


# --- Accounts: register and PATCH /api/users/me/ -------------------------------------------------

# Not in accounts/tests/test_bad_input.py: verification flags, hash fields, other apps' fields.
PRIVILEGED = {
    "email-verified": ("email_verified", True),
    "is-verified": ("is_verified", True),
    "verified-email-as-text": ("verified", "true"),
    "password-hash": ("password_hash", "md5$salt$0123456789abcdef0123456789abcdef"),
    "hashed-password": ("hashed_password", "argon2$argon2id$v=19$m=1,t=1,p=1$x$y"),
    "uppercase-is-staff-key": ("IS_STAFF", True),
    "is-staff-as-text": ("is_staff", "true"),
    "role-uppercase": ("role", "ADMIN"),
    "voted-polls": ("voted_polls", [1, 2, 3]),
    "auth-sessions": ("auth_sessions", [{"revoked_at": None}]),
    "social-auth": ("social_auth", [{"provider": "google", "uid": "victim"}]),
    "last-login": ("last_login", "2000-01-01T00:00:00Z"),
}


def _assert_plain_student(user: CustomUser, password: str) -> None:
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser, user.is_active) == (
        Role.STUDENT,
        False,
        False,
        True,
    )
    assert user.check_password(password)
    assert not user.social_auth.exists()


@pytest.mark.parametrize(("field", "value"), PRIVILEGED.values(), ids=PRIVILEGED.keys())
def test_register_ignores_verification_hash_and_foreign_fields(db, field, value):
    client = no_crash(CommittingAPIClient())
    body = {
        "email": "newcomer@example.com",
        "username": "newcomer",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
        field: value,
    }
    response = client.post("/api/auth/register/", body, format="json")
    if response.status_code == 400:  # refusing is as good as ignoring, if nothing is written
        assert_error_envelope(response, 400)
        assert not CustomUser.objects.filter(email="newcomer@example.com").exists()
        return
    assert response.status_code == 201, response.content
    user = CustomUser.objects.get(email="newcomer@example.com")
    assert response.json()["user"]["role"] == "student"
    assert response.json()["user"].get("voted_polls", []) == []
    assert user.last_login is None or user.last_login.year != 2000
    _assert_plain_student(user, NEW_PASSWORD)


@pytest.mark.parametrize(("field", "value"), PRIVILEGED.values(), ids=PRIVILEGED.keys())
def test_profile_update_ignores_verification_hash_and_foreign_fields(world, field, value):
    client = world.client("attacker")
    before = db_rows()
    response = client.patch("/api/users/me/", {field: value, "name": "Renamed"}, format="json")
    after = db_rows()
    if response.status_code == 400:
        assert_error_envelope(response, 400)
        assert after == before
        return
    assert response.status_code == 200, response.content
    assert response.json()["voted_polls"] == []
    assert_unchanged_except(before, after, "CustomUser")
    user = world.attacker
    _assert_plain_student(user, "correct-horse-battery")
    assert user.name == "Renamed"
    assert user.last_login is None or user.last_login.year != 2000


def test_a_password_that_looks_like_a_hash_is_hashed_like_any_other_password(db):
    """A client cannot smuggle in a precomputed hash: the text is the password itself."""
    looks_like_a_hash = "md5$$5f4dcc3b5aa765d61d8327deb882cf99"
    client = no_crash(CommittingAPIClient())
    body = {
        "email": "newcomer@example.com",
        "username": "newcomer",
        "password": looks_like_a_hash,
        "password_confirm": looks_like_a_hash,
    }
    assert client.post("/api/auth/register/", body, format="json").status_code == 201
    user = CustomUser.objects.get(email="newcomer@example.com")
    assert user.password != looks_like_a_hash
    assert user.check_password(looks_like_a_hash)
    assert not user.check_password("password")


@pytest.mark.parametrize(
    "body",
    [{"team": "{team}"}, {"team": None}, {"part": "design"}, {"part": ""}],
    ids=["team", "no-team", "part", "no-part"],
)
@pytest.mark.parametrize("path", ["/api/users/me/", "/api/auth/register/"])
def test_a_user_never_sets_their_own_part_or_team(world, path, body):
    """Part and team decide who votes in which poll: staff place users, users cannot."""
    body = {**body, "team": TeamFactory().pk} if body.get("team") == "{team}" else body
    if path == "/api/auth/register/":
        password = "a-long-enough-passphrase"
        body = {
            **body,
            "email": "newcomer@example.com",
            "username": "newcomer",
            "password": password,
            "password_confirm": password,
        }
        client, send = world.client("anon"), "post"
    else:
        client, send = world.client("attacker"), "patch"
    before = db_rows()
    error = assert_error_envelope(getattr(client, send)(path, body, format="json"), 400)
    assert set(error["fields"]) == set(body) & {"part", "team"}
    assert error["fields"][next(iter(set(body) & {"part", "team"}))] == [
        "Your part and team are assigned by staff."
    ]
    assert db_rows() == before


def test_staff_place_a_user_in_a_part_and_a_team_but_not_an_unknown_team(world):
    staff_client = world.client("staff")
    team = TeamFactory()
    user_id = world.ids["owner"]
    response = staff_client.patch(
        f"/api/users/{user_id}/", {"part": "design", "team": team.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["part"], response.json()["team"]["id"]) == ("design", team.pk)
    before = db_rows()
    error = assert_error_envelope(
        staff_client.patch(f"/api/users/{user_id}/", {"team": team.pk + 1000}, format="json"), 400
    )
    assert list(error["fields"]) == ["team"]
    assert db_rows() == before


# --- Courses and curriculums ---------------------------------------------------------------------


@pytest.mark.parametrize("whom", ["tutor", "staff", "attacker"])
def test_a_tutor_creating_a_course_for_someone_else_gets_it_as_their_own_or_400(world, whom):
    client = world.client("rival")
    before = db_rows()
    body = {"title": "Hijack", "price": 1000, "tutor": getattr(world, whom).pk}
    response = client.post("/api/courses/", body, format="json")
    if response.status_code == 400:
        assert list(assert_error_envelope(response, 400)["fields"]) == ["tutor"]
        assert db_rows() == before
        return
    assert response.status_code == 201, response.content
    course = Course.objects.get(pk=response.json()["id"])
    assert course.tutor_id == world.rival.pk
    assert response.json()["tutor"]["id"] == world.rival.pk
    assert_unchanged_except(before, db_rows(), "Course")


@pytest.mark.parametrize("whom", ["rival", "staff"])
def test_a_tutor_cannot_hand_their_course_to_someone_else(world, whom):
    client = world.client("tutor")
    response = client.patch(
        world.path("/api/courses/{course}/"), {"tutor": getattr(world, whom).pk}, format="json"
    )
    assert response.status_code in (200, 400), response.content
    assert Course.objects.get(pk=world.ids["course"]).tutor_id == world.tutor.pk


COURSE_FIELDS = {
    "id-of-the-victims-course": {"id": "{course}"},
    "created-at": {"created_at": "2000-01-01T00:00:00Z"},
    "thumbnail-path": {"thumbnail": "../../../etc/passwd"},
    "lecture-count": {"lecture_count": 99},
}


@pytest.mark.parametrize("extra", COURSE_FIELDS.values(), ids=COURSE_FIELDS.keys())
def test_read_only_course_fields_in_a_create_are_ignored(world, extra):
    client = world.client("rival")
    before = db_rows()
    response = client.post(
        "/api/courses/", fill_ids(world, {"title": "Mine", **extra}), format="json"
    )
    assert response.status_code == 201, response.content
    course = Course.objects.get(pk=response.json()["id"])
    assert course.pk != world.ids["course"]
    assert course.created_at.year != 2000
    assert not course.thumbnail
    assert response.json()["thumbnail"] is None
    assert_unchanged_except(before, db_rows(), "Course")


PRICES = {
    "negative": "-1",
    "one-over-the-cap": "100000001",
    "2-pow-63": str(2**63),
    "overflowing-float-1e309": "1e309",
    "fraction": "1000.5",
    "boolean": "true",
    "object": '{"amount": 1}',
    "list": "[1000]",
}


@pytest.mark.parametrize("price", PRICES.values(), ids=PRICES.keys())
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_course_price_out_of_range_or_of_the_wrong_type_is_400_and_stores_nothing(
    world, method, price
):
    client = world.client("tutor")
    path = "/api/courses/" if method == "POST" else world.path("/api/courses/{course}/")
    before = db_rows()
    body = f'{{"title": "Priced", "price": {price}}}'
    response = client.generic(method, path, body, content_type="application/json")
    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == ["price"]
    assert db_rows() == before


def _victims_tree(world) -> dict:
    course = Course.objects.get(pk=world.ids["course"])
    lecture = course.lectures.get()
    topic = Topic.objects.get(pk=world.ids["quiz"])
    question = topic.questions.order_by("position")[0]
    return {
        "lecture": lecture.pk,
        "topic": topic.pk,
        "question": question.pk,
        "choice": question.choices.order_by("position")[0].pk,
    }


def _tree_naming(ids: dict, level: str) -> list:
    """A one-lecture tree in which the item at `level` carries the victim's id."""
    choice = {"text": "Stolen", "is_correct": True}
    question = {"prompt": "Stolen?", "choices": [choice, {"text": "No"}]}
    topic = {"title": "Stolen", "type": "quiz", "questions": [question]}
    lecture = {"title": "Stolen", "topics": [topic]}
    by_level: dict[str, dict[str, Any]] = {
        "lecture": lecture,
        "topic": topic,
        "question": question,
        "choice": choice,
    }
    by_level[level]["id"] = ids[level]
    return [lecture]


@pytest.mark.parametrize("level", ["lecture", "topic", "question", "choice"])
def test_ids_of_another_tutors_lectures_topics_questions_or_choices_are_400_and_move_nothing(
    world, level
):
    """The tree sync keeps children "with an id": never someone else's, wherever it is named."""
    own = CourseFactory(tutor=world.rival)
    client = world.client("rival")
    before = db_rows()
    response = client.patch(
        f"/api/courses/{own.pk}/",
        {"lectures": _tree_naming(_victims_tree(world), level)},
        format="json",
    )
    error = assert_error_envelope(response, 400, "validation_error")
    assert error["fields"], error
    assert db_rows() == before
    assert not Lecture.objects.filter(course=own).exists()


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_curriculum_bundling_another_tutors_course_is_400(world, method):
    client = world.client("rival")
    own = CourseFactory(tutor=world.rival)
    if method == "PATCH":
        response = client.post(
            "/api/curriculums/", {"title": "Mine", "course_ids": [own.pk]}, format="json"
        )
        path = f"/api/curriculums/{response.json()['id']}/"
    else:
        path = "/api/curriculums/"
    before = db_rows()
    body = {"title": "Bundle", "course_ids": [own.pk, world.ids["course"]], "tutor": world.tutor.pk}
    error = assert_error_envelope(
        client.generic(method, path, json.dumps(body), "application/json"), 400
    )
    assert list(error["fields"]) == ["course_ids"]
    assert db_rows() == before


def test_a_curriculum_names_its_creator_as_tutor_whatever_the_body_says(world):
    client = world.client("rival")
    own = CourseFactory(tutor=world.rival)
    body = {"title": "Bundle", "course_ids": [own.pk], "tutor": world.tutor.pk, "id": 1}
    response = client.post("/api/curriculums/", body, format="json")
    assert response.status_code == 201, response.content
    assert Curriculum.objects.get(pk=response.json()["id"]).tutor_id == world.rival.pk
    assert response.json()["id"] != world.ids["curriculum"]


# --- Uploads -------------------------------------------------------------------------------------


def test_an_uploaded_videos_owner_type_and_duration_come_from_the_server_and_the_file(world):
    client = world.client("rival")
    upload = SimpleUploadedFile("x.mp4", MP4, content_type="text/html")
    fields = {
        "file": upload,
        "title": "Mine",
        "owner": world.tutor.pk,
        "duration": 9999,
        "content_type": "text/html",
        "size": 1,
    }
    response = client.post("/api/videos/", fields, format="multipart")
    assert response.status_code == 201, response.content
    video = Video.objects.get(pk=response.json()["id"])
    assert (video.owner_id, video.content_type, video.size) == (
        world.rival.pk,
        "video/mp4",
        len(MP4),
    )
    assert video.duration == pytest.approx(4.0, abs=0.1)


def test_an_uploaded_images_owner_is_the_caller(world):
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4)).save(buffer, format="PNG")
    client = world.client("attacker")
    upload = SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")
    response = client.post(
        "/api/images/", {"file": upload, "owner": world.owner.pk, "width": 1}, format="multipart"
    )
    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["id"])
    assert (image.owner_id, image.width) == (world.attacker.pk, 4)


def test_a_staff_member_may_assign_a_course_to_a_tutor(world):
    """The control for the tutor field: it works for staff, so the tests above can fail."""
    other = TutorFactory()
    client = world.client("staff")
    response = client.post("/api/courses/", {"title": "Assigned", "tutor": other.pk}, format="json")
    assert response.status_code == 201, response.content
    assert Course.objects.get(pk=response.json()["id"]).tutor_id == other.pk

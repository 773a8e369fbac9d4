"""The scene the security battery (tests/test_security_*.py) attacks, and its helpers.

`world_build()` makes one victim student with a purchase, a submission, an image, an address and
the rest, the tutor of their course and a staff member, plus the attackers: another student, a
classmate enrolled in the same course, and a rival tutor. Private text of the victims carries
`SECRET`, so a response that leaks any of it is easy to spot.
"""

import copy
import functools
import io
import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings
from PIL import Image as PILImage
from rest_framework.test import APIClient

from accounts.auth.tokens import TokenPair
from accounts.models import AuthSession, CustomUser
from accounts.testing import SignedInClient, client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory
from core.testing import CommittingAPIClient, assert_error_envelope
from courses.models import TopicType
from courses.tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    LectureFactory,
    TopicFactory,
    quiz_topic,
)
from payments.models import CartItem
from payments.tests.factories import BillingAddressFactory, CurriculumFactory
from payments.tests.flows import (
    buy_with_sandbox,
    order_for,
    payment_start,
    pg_token_of,
    sandbox_authorise,
)
from videos.models import Video
from videos.tests.factories import ImageFactory
from votes.models import Ballot
from votes.tests.factories import CandidateFactory, PollFactory

SECRET = "victim-secret-7f3a"
FIXTURES = Path(__file__).resolve().parents[1] / "videos" / "tests" / "fixtures"
MP4 = (FIXTURES / "tiny.mp4").read_bytes()
PROJECT_APPS = ("accounts", "courses", "videos", "votes", "payments", "core")
# Columns that a refused request may still touch without changing anything that matters.
VOLATILE = {("AuthSession", "last_used_at")}

Client = TypeVar("Client", bound=APIClient)


def no_crash(client: Client) -> Client:
    """A 500 comes back as a response (and fails on its status) instead of re-raising."""
    client.raise_request_exception = False
    return client


def logged_in(user: CustomUser) -> SignedInClient:
    return no_crash(client_for(user))


@functools.cache
def _snapshot_queries() -> tuple[tuple[str, str], ...]:
    """One plain SELECT per table, built once: compiling ORM queries for ~30 tables on every
    call would cost more than the requests under test."""
    queries = []
    quote = connection.ops.quote_name
    for label in PROJECT_APPS:
        for model in apps.get_app_config(label).get_models():
            name = model.__name__
            # A concrete field always has a column (django-stubs types it optional).
            columns = [
                quote(cast(str, f.column))
                for f in model._meta.concrete_fields
                if (name, f.name) not in VOLATILE
            ]
            table, pk = quote(model._meta.db_table), quote(cast(str, model._meta.pk.column))
            # Quoted names from the models' own metadata, no outside input.
            sql = f"SELECT {', '.join(columns)} FROM {table} ORDER BY {pk}"  # noqa: S608
            queries.append((name, sql))
    return tuple(queries)


def db_rows() -> dict[str, list[tuple]]:
    """Every row of the project's own tables, column by column (volatile columns left out)."""
    with connection.cursor() as cursor:
        rows = {}
        for name, sql in _snapshot_queries():
            cursor.execute(sql)
            rows[name] = cursor.fetchall()
    return rows


def assert_unchanged_except(before: dict, after: dict, *tables: str) -> None:
    """Rows that existed before are unchanged in every table but `tables` (the caller's own)."""
    for table, rows in before.items():
        if table not in tables:
            assert after[table][: len(rows)] == rows, table


def send(client: APIClient, method: str, path: str, body=None, **extra):
    """GET and DELETE carry nothing; a dict body goes as JSON, raw text/bytes as they are."""
    if method in ("GET", "DELETE", "OPTIONS", "HEAD") and body is None:
        return client.generic(method, path, **extra)
    content_type = extra.pop("content_type", "application/json")
    data = json.dumps(body) if isinstance(body, (dict, list)) else (body or "")
    return client.generic(method, path, data, content_type=content_type, **extra)


@dataclass
class World:
    owner: CustomUser
    tutor: CustomUser
    staff: CustomUser
    attacker: CustomUser
    classmate: CustomUser
    rival: CustomUser
    tokens: dict[str, TokenPair] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    pg_token: str = ""

    def client(self, who: str) -> APIClient:
        """A fresh client (no cookies carried over) holding `who`'s one session: the same session
        in every test, so its id can be attacked."""
        if who == "anon":
            return no_crash(CommittingAPIClient())
        return no_crash(SignedInClient(self.tokens[who]))

    def path(self, template: str) -> str:
        return template.format(pg_token=self.pg_token, **self.ids)


@contextmanager
def kept_for_module(django_db_blocker, build):
    """Build once for a whole test module and roll back at its end (Django's setUpTestData).

    Each test then runs in a savepoint inside this transaction, so whatever a test writes is
    undone before the next, and the build costs its time once. The build uses its own cache
    namespace, as each test does (conftest's _isolated_cache)."""
    caches = {
        name: {**config, "KEY_PREFIX": f"security-{uuid.uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }
    with django_db_blocker.unblock(), override_settings(CACHES=caches), transaction.atomic():
        yield build()
        transaction.set_rollback(True)


def world_build() -> World:
    """The victims' objects, made through the API where the API makes them (purchase, submission,
    quiz attempt, video, vote) so that they are what real use leaves behind."""
    owner = UserFactory.create(name=f"Owner {SECRET}", phone="010-0000-0000", part="backend")
    tutor = TutorFactory.create(name="Course Tutor")
    staff = StaffFactory.create()
    world = World(
        owner=owner,
        tutor=tutor,
        staff=staff,
        attacker=UserFactory.create(part="backend"),
        classmate=UserFactory.create(),
        rival=TutorFactory.create(),
    )
    ids = world.ids
    # Every actor's one session, made now: one made inside a test would roll back with it. The
    # access tokens outlive the module however slow the run (sessions cap them anyway).
    with override_settings(ACCESS_TOKEN_LIFETIME=timedelta(hours=12)):
        for who in ("owner", "tutor", "staff", "attacker", "classmate", "rival"):
            world.tokens[who] = client_for(getattr(world, who)).token_pair

    course = CourseFactory.create(tutor=tutor, price=20000, description="Public description.")
    lecture = LectureFactory.create(course=course, position=0)
    article = TopicFactory.create(lecture=lecture, position=0, body=f"Premium article {SECRET}")
    quiz = quiz_topic(lecture=lecture, position=1, questions=2)
    assignment = TopicFactory.create(
        lecture=lecture, position=2, type=TopicType.ASSIGNMENT, body=f"Prompt {SECRET}"
    )
    video_topic = TopicFactory.create(lecture=lecture, position=3, type=TopicType.VIDEO, body="")
    draft = CourseFactory.create(tutor=tutor, is_published=False, title=f"Draft {SECRET}")
    other_course = CourseFactory.create(tutor=tutor, price=15000)
    curriculum = CurriculumFactory.create(tutor=tutor, courses=[course, other_course], price=30000)
    ids.update(
        course=course.pk,
        article=article.pk,
        quiz=quiz.pk,
        assignment=assignment.pk,
        video_topic=video_topic.pk,
        draft=draft.pk,
        other_course=other_course.pk,
        curriculum=curriculum.pk,
    )

    upload = SimpleUploadedFile("lecture.mp4", MP4, content_type="video/mp4")
    response = world.client("tutor").post(
        "/api/videos/",
        {"file": upload, "title": f"Video {SECRET}", "topic": video_topic.pk},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    ids["video"] = response.json()["id"]
    ids["video_size"] = Video.objects.get(pk=ids["video"]).size

    me = world.client("owner")
    paid = buy_with_sandbox(me, course)
    ids.update(paid=paid["id"], paid_order=paid["order"])
    EnrollmentFactory.create(user=world.classmate, course=course)

    submission = me.post(f"/api/topics/{assignment.pk}/submissions/", {"text": SECRET})
    assert submission.status_code == 201, submission.content
    ids["submission"] = submission.json()["id"]
    questions = quiz.questions.order_by("position").prefetch_related("choices")
    answers = {str(q.pk): q.choices.order_by("position")[0].pk for q in questions}
    ids["answers"] = answers
    attempt = me.post(f"/api/topics/{quiz.pk}/quiz-attempts/", {"answers": answers})
    assert attempt.status_code == 201, attempt.content
    event = me.post(f"/api/videos/{ids['video']}/events/", {"event_type": "play", "position": 0})
    assert event.status_code == 201, event.content

    address = BillingAddressFactory.create(user=owner, is_default=True, line1=f"1 {SECRET}-ro")
    order = order_for(me, other_course)
    started = payment_start(me, order["id"])
    world.pg_token = pg_token_of(sandbox_authorise(me, started["redirect_url"]))
    item = CartItem.objects.create(user=owner, curriculum=CurriculumFactory.create(tutor=tutor))
    image = ImageFactory.create(owner=owner)
    ids.update(
        address=address.pk,
        order=order["id"],
        pending=started["payment"]["id"],
        item=item.pk,
        image=image.pk,
        owner=owner.pk,
        owner_session=AuthSession.objects.filter(user=owner).values_list("pk", flat=True)[0],
    )

    ids.update(
        staff_image=ImageFactory.create(owner=staff).pk,
        staff_address=BillingAddressFactory.create(user=staff, line1=f"2 {SECRET}-gil").pk,
        staff_item=CartItem.objects.create(user=staff, course=CourseFactory.create()).pk,
        staff_session=AuthSession.objects.filter(user=staff).values_list("pk", flat=True)[0],
        staff=staff.pk,
        tutor=tutor.pk,
    )

    poll = PollFactory.create(ballot=Ballot.SECRET, title="General poll")
    candidate = CandidateFactory.create(poll=poll)
    vote = me.post(f"/api/polls/{poll.pk}/votes/", {"candidate": candidate.pk})
    assert vote.status_code == 201, vote.content
    ids.update(poll=poll.pk, candidate=candidate.pk)
    return world


# --- IDOR matrices (test_security_idor*.py) ------------------------------------------------------

PNG_UPLOAD = object()  # stands for the body of a multipart thumbnail upload
NOT_FOUND = (404, "not_found")
DENIED = (403, "permission_denied")
NOT_ENTITLED = (403, "not_entitled")
IDOR_ARGS = ("actor", "method", "path", "body", "expected", "legit")


def idor_row(name, legit, actor, method, path, expected, body=None):
    """One attack: `actor` sends it and gets `expected` (status, code); `legit` (who, status)
    is the rightful user's answer to the very same request, or None when nobody has one."""
    return pytest.param(actor, method, path, body, expected, legit, id=name)


def fill_ids(world: World, value):
    """The world's ids put into a body: a "{name}" string becomes world.ids[name]."""
    if isinstance(value, dict):
        return {key: fill_ids(world, item) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_ids(world, item) for item in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world.ids[value[1:-1]]
    return value


def png_upload(name: str = "thumb.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def idor_send(world: World, actor: str, method: str, path: str, body):
    client = world.client(actor)
    if body is PNG_UPLOAD:
        upload = getattr(client, method.lower())
        return upload(world.path(path), {"file": png_upload()}, format="multipart")
    return send(client, method, world.path(path), fill_ids(world, body))


def victims_private_text(world: World) -> list[bytes]:
    return [SECRET.encode(), world.owner.email.encode(), world.owner.phone.encode()]


def assert_idor_refused(world: World, actor, method, path, body, expected) -> None:
    """Refused with the expected status and code, none of the victim's text, no row changed."""
    before = db_rows()
    response = idor_send(world, actor, method, path, body)
    status_code, code = expected
    assert_error_envelope(response, status_code, code)
    for private in victims_private_text(world):
        assert private not in response.content
    assert db_rows() == before


def assert_rightful_user_answered(world: World, method, path, body, legit) -> None:
    """The control: the owner (or the course's tutor, or staff) gets through with the same
    request, so a refusal of the attacker means something."""
    who, status_code = legit
    response = idor_send(world, who, method, path, body)
    assert response.status_code == status_code, response.content[:300]


# --- Every JSON endpoint that writes, with a valid body (test_security_inputs.py, _ids.py) --------

POLL = {
    "kind": "general",
    "title": "Poll",
    "opens_at": "2030-01-01T00:00:00Z",
    "closes_at": "2030-01-02T00:00:00Z",
}
# name: (actor, method, path, valid body, also accepts multipart). "{name}" strings are ids.
ENDPOINTS = {
    "team-create": ("staff", "POST", "/api/teams/", {"name": "Team X"}, False),
    "user-membership": ("staff", "PATCH", "/api/users/{owner}/", {"part": "design"}, False),
    "poll-create": ("staff", "POST", "/api/polls/", POLL, False),
    "candidate-create": ("attacker", "POST", "/api/polls/{poll}/candidates/", {"name": "C"}, False),
    "vote-cast": (
        "attacker",
        "POST",
        "/api/polls/{poll}/votes/",
        {"candidate": "{candidate}"},
        False,
    ),
    "course-create": ("tutor", "POST", "/api/courses/", {"title": "C", "price": 1000}, False),
    "course-replace": ("tutor", "PUT", "/api/courses/{course}/", {"title": "C"}, False),
    "course-update": ("tutor", "PATCH", "/api/courses/{course}/", {"price": 1000}, False),
    "curriculum-create": (
        "tutor",
        "POST",
        "/api/curriculums/",
        {"title": "B", "course_ids": ["{course}"]},
        False,
    ),
    "curriculum-update": ("tutor", "PATCH", "/api/curriculums/{curriculum}/", {"price": 9}, False),
    "quiz-attempt": (
        "owner",
        "POST",
        "/api/topics/{quiz}/quiz-attempts/",
        {"answers": "{answers}"},
        False,
    ),
    "submission": ("owner", "POST", "/api/topics/{assignment}/submissions/", {"text": "t"}, True),
    "grade": ("tutor", "PATCH", "/api/submissions/{submission}/", {"grade": 50}, False),
    "video-update": ("tutor", "PATCH", "/api/videos/{video}/", {"title": "V"}, False),
    "video-event": (
        "owner",
        "POST",
        "/api/videos/{video}/events/",
        {"event_type": "play", "position": 1},
        False,
    ),
    "cart-item-add": ("attacker", "POST", "/api/cart/items/", {"course": "{other_course}"}, False),
    "order-create": (
        "attacker",
        "POST",
        "/api/orders/",
        {"items": [{"course": "{other_course}"}]},
        False,
    ),
    "address-create": (
        "attacker",
        "POST",
        "/api/billing-addresses/",
        {"name": "K", "line1": "L"},
        False,
    ),
    "address-update": ("owner", "PATCH", "/api/billing-addresses/{address}/", {"name": "K"}, False),
    "payment-start": (
        "owner",
        "POST",
        "/api/payments/",
        {"order": "{order}", "provider": "sandbox"},
        False,
    ),
}
ACCOUNTS = {
    "me-update": ("owner", "PATCH", "/api/users/me/", {"name": "N"}, False),
    "register": (
        "anon",
        "POST",
        "/api/auth/register/",
        {
            "email": "new@example.com",
            "username": "newcomer",
            "password": "Quartz-Lantern-42",
            "password_confirm": "Quartz-Lantern-42",
        },
        False,
    ),
    "login": (
        "anon",
        "POST",
        "/api/auth/login/",
        {"login": "x@example.com", "password": "p"},
        False,
    ),
}
EVERY_ENDPOINT = {**ENDPOINTS, **ACCOUNTS}


def valid_body(world: World, endpoint: str) -> dict:
    return fill_ids(world, copy.deepcopy(EVERY_ENDPOINT[endpoint][3]))


def send_to(world: World, endpoint: str, body, content_type: str = "application/json"):
    actor, method, path, _body, _multipart = EVERY_ENDPOINT[endpoint]
    return send(world.client(actor), method, world.path(path), body, content_type=content_type)


def assert_body_refused(
    world: World, endpoint: str, body, status_code: int, code=None, content_type=None
) -> dict:
    before = db_rows()
    response = send_to(world, endpoint, body, content_type or "application/json")
    error = assert_error_envelope(response, status_code, code)
    assert db_rows() == before
    return error

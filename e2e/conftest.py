"""One stack for the whole end-to-end session (starting it costs a few seconds), with demo data
and a lecture video uploaded through nginx."""

import secrets
from pathlib import Path

import pytest

from tools import fixtures
from tools.procs import ROOT, free_port
from tools.stack import Stack, stack
from tools.videos import multipart, wait_processed

DEMO_PASSWORD = "demo-pass-1234"
MP4 = (ROOT / "videos" / "tests" / "fixtures" / "tiny.mp4").read_bytes()
FRONTEND_ORIGIN = "https://localhost:{port}"
PER_IP_THROTTLES = ("LOGIN", "REGISTER", "REFRESH", "PASSWORD_RESET", "SOCIAL")


@pytest.fixture(scope="session")
def frontend_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def edge(frontend_port) -> Stack:
    frontend = FRONTEND_ORIGIN.format(port=frontend_port)
    with stack(
        CORS_ALLOWED_ORIGINS=(
            f"{frontend},https://127.0.0.1:{frontend_port},http://127.0.0.1:{frontend_port}"
        ),
        CSRF_TRUSTED_ORIGINS=frontend,
        # Cookie mode as a browser frontend on another site uses it.
        AUTH_REFRESH_COOKIE="true",
        AUTH_REFRESH_COOKIE_SAMESITE="None",
        # Django's limits per IP would trip over the whole suite coming from one address (and
        # hide nginx's, which are tested); the per-account limits stay at their production
        # values, and the login one is tested across instances.
        **{f"THROTTLE_{scope}_IP": "1000/min" for scope in PER_IP_THROTTLES},
        # gunicorn's access log, as the container writes it (docker/gunicorn.conf.py).
        access_log=True,
        # The `worker` service processes the uploaded videos.
        celery_worker=True,
    ) as running:
        running.manage("seed_demo")
        fixtures.django_setup(running.env)  # tests add their own data from this process
        yield running


def login(edge: Stack, email: str, **request) -> dict:
    body = {"login": email, "password": DEMO_PASSWORD}
    reply = edge.request("POST", "/api/auth/login/", body=body, **request)
    assert reply.status == 200, reply.body
    return reply.json()


@fixtures.closing
def user_create(edge: Stack, email: str = "", **fields) -> str:
    """A learner of a test's own (with DEMO_PASSWORD), so per-account throttles never carry over
    from one test to the next; returns the email."""
    from accounts.models import CustomUser

    email = email or f"e2e-{secrets.token_hex(4)}@example.com"
    CustomUser.objects.create_user(email, email.split("@")[0], DEMO_PASSWORD, **fields)
    return email


def staff_create(edge: Stack) -> str:
    """A staff member of a test's own (with DEMO_PASSWORD); returns the email."""
    return user_create(edge, is_staff=True)


@fixtures.closing
def topic_create(kind: str, title: str, email: str = "student1@example.com", position=None) -> int:
    """A topic in the first lecture of the course `email` is enrolled in; its id."""
    from courses.models import Enrollment, Topic

    lecture = Enrollment.objects.get(user__email=email).course.lectures.first()
    position = lecture.topics.count() if position is None else position
    return Topic.objects.create(lecture=lecture, title=title, type=kind, position=position).pk


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def lecture_video(edge) -> dict:
    """A video topic in the course student1 is enrolled in, its video uploaded by the tutor
    through nginx and processed by the worker; returns the video's JSON and the stored path."""
    topic_id = topic_create("video", "Video lesson")
    tutor = login(edge, "tutor@example.com")
    body, content_type = multipart({"topic": topic_id, "title": "Lesson"}, "lesson.mp4", MP4)
    headers = {**bearer(tutor["access"]), "Content-Type": content_type}
    reply = edge.request("POST", "/api/videos/", body=body, headers=headers)
    assert reply.status == 201, reply.body
    video = wait_processed(edge, tutor["access"], reply.json()["id"])
    assert video["status"] == "ready", (video, edge.worker_log()[-3000:])
    stored = list((Path(edge.env["PROTECTED_MEDIA_ROOT"]) / "videos").rglob("*.mp4"))
    assert len(stored) == 1
    return {**video, "path": stored[0]}

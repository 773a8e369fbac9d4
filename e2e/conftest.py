"""One stack for the whole end-to-end session (starting it costs a few seconds), with demo data
and a lecture video uploaded through nginx."""

import secrets
from pathlib import Path

import pytest

from e2e.stack import ROOT, Stack, stack

DEMO_PASSWORD = "demo-pass-1234"
MP4 = (ROOT / "videos" / "tests" / "fixtures" / "tiny.mp4").read_bytes()
FRONTEND_ORIGIN = "https://localhost:{port}"


@pytest.fixture(scope="session")
def frontend_port() -> int:
    from e2e.stack import free_port

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
        THROTTLE_LOGIN_IP="1000/min",
        THROTTLE_REGISTER_IP="1000/min",
        THROTTLE_REFRESH_IP="1000/min",
        THROTTLE_PASSWORD_RESET_IP="1000/min",
        THROTTLE_SOCIAL_IP="1000/min",
        # gunicorn's access log, as the container writes it (docker/gunicorn.conf.py).
        access_log=True,
    ) as running:
        running.manage("seed_demo")
        yield running


def login(edge: Stack, email: str, **request) -> dict:
    reply = edge.request(
        "POST", "/api/auth/login/", body={"login": email, "password": DEMO_PASSWORD}, **request
    )
    assert reply.status == 200, reply.body
    return reply.json()


def user_create(edge: Stack, email: str = "") -> str:
    """A learner of a test's own (with DEMO_PASSWORD), so per-account throttles never carry over
    from one test to the next; returns the email."""
    email = email or f"e2e-{secrets.token_hex(4)}@example.com"
    edge.manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth import get_user_model;"
        f"get_user_model().objects.create_user(email={email!r}, password={DEMO_PASSWORD!r},"
        f" username={email.split('@')[0]!r})",
    )
    return email


def staff_create(edge: Stack) -> str:
    """A staff member of a test's own (with DEMO_PASSWORD); returns the email."""
    email = user_create(edge)
    edge.manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth import get_user_model;"
        f"get_user_model().objects.filter(email={email!r}).update(is_staff=True)",
    )
    return email


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def multipart(fields: dict, file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture(scope="session")
def lecture_video(edge) -> dict:
    """A video topic in the course student1 is enrolled in, its video uploaded by the tutor
    through nginx; returns the video's JSON and the stored path."""
    topic_id = edge.manage(
        "shell",
        "--no-imports",
        "-c",
        "from courses.models import Enrollment, Lecture, Topic;"
        "course = Enrollment.objects.get(user__email='student1@example.com').course;"
        "lecture = course.lectures.first();"
        "topic = Topic.objects.create(lecture=lecture, title='Video lesson', type='video',"
        " position=lecture.topics.count());"
        "print(topic.pk)",
    ).split()[-1]
    tutor = login(edge, "tutor@example.com")
    body, content_type = multipart({"topic": topic_id, "title": "Lesson"}, "lesson.mp4", MP4)
    reply = edge.request(
        "POST",
        "/api/videos/",
        body=body,
        headers={**bearer(tutor["access"]), "Content-Type": content_type},
    )
    assert reply.status == 201, reply.body
    video = reply.json()
    stored = list(Path(edge.env["PROTECTED_MEDIA_ROOT"]).rglob("*.mp4"))
    assert len(stored) == 1
    return {**video, "path": stored[0]}

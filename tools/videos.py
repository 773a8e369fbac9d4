"""Lecture videos on a running stack, for e2e, faults and benchmarks: real clips made by ffmpeg,
a tutor with a video topic, an upload through nginx, and waiting for the worker to process it."""

import json
import secrets
import subprocess  # nosec B404
import time
from pathlib import Path

from tools.clients import Reply

PASSWORD = "video-pass-1234"  # nosec B105 - a loopback test account's


def clip(path: Path, *, seconds: float = 5, size: str = "640x360", audio: bool = True) -> Path:
    """An H.264/AAC MP4 of a moving test picture and a tone (ffmpeg's lavfi sources)."""
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
               f"testsrc2=size={size}:rate=25:duration={seconds}"]  # fmt: skip
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    command += ["-c:a", "aac"] if audio else []
    command += ["-shortest", str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)  # nosec B603
    return path


def multipart(fields: dict, file_name: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and one file; (body, Content-Type)."""
    boundary = secrets.token_hex(12)
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


COURSE_WITH_VIDEO_TOPIC = """
import json, secrets
from accounts.models import CustomUser, Role
from courses.models import Course, Enrollment, EnrollmentSource, Lecture, Topic, TopicType
tag = "PREFIX-" + secrets.token_hex(3)
tutor = CustomUser.objects.create_user(f"{tag}-tutor@example.com", f"{tag}-tutor", PASSWORD,
                                       role=Role.TUTOR)
learner = CustomUser.objects.create_user(f"{tag}-learner@example.com", f"{tag}-learner", PASSWORD)
course = Course.objects.create(tutor=tutor, title=f"{tag} course", price=0, is_published=True)
lecture = Lecture.objects.create(course=course, title="Lecture", position=0)
topic = Topic.objects.create(lecture=lecture, title="Video", type=TopicType.VIDEO, position=0)
Enrollment.objects.create(user=learner, course=course, source=EnrollmentSource.PURCHASE)
print(json.dumps({"tutor": tutor.email, "learner": learner.email, "topic": topic.pk}))
"""


def course_with_video_topic(stack, prefix: str) -> dict:
    """A tutor, a published course of theirs with a video topic, and a learner enrolled in it
    (both with PASSWORD), made on `stack`'s database: their emails and the topic's id."""
    code = COURSE_WITH_VIDEO_TOPIC.replace("PREFIX", prefix).replace("PASSWORD", repr(PASSWORD))
    return json.loads(stack.manage("shell", "-c", code).splitlines()[-1])


def stream_key(stack, video_id: int) -> str:
    """The video's stream key (where its renditions are stored)."""
    code = (
        "from videos.models import Video; "
        f"print(Video.objects.values_list('stream_key', flat=True).get(pk={int(video_id)}))"
    )
    return stack.manage("shell", "-c", code).splitlines()[-1]


def login(stack, email: str) -> str:
    """An access token of `email` (PASSWORD), through nginx."""
    reply = stack.request("POST", "/api/auth/login/", body={"login": email, "password": PASSWORD})
    assert reply.status == 200, reply.body
    return reply.json()["access"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def upload(stack, token: str, data: bytes, *, topic: int | None = None, **request) -> Reply:
    fields = {"title": "Lecture"} | ({"topic": topic} if topic is not None else {})
    body, content_type = multipart(fields, "lecture.mp4", data)
    headers = {**bearer(token), "Content-Type": content_type}
    return stack.request("POST", "/api/videos/", body=body, headers=headers, **request)


def wait_processed(stack, token: str, video_id: int, *, timeout: float = 180.0) -> dict:
    """The video's JSON once it is no longer `processing` (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        reply = stack.request("GET", f"/api/videos/{video_id}/", headers=bearer(token))
        video = reply.json()
        if video.get("status") != "processing" or time.monotonic() > deadline:
            return video
        time.sleep(0.25)

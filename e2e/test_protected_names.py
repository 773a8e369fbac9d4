"""Protected files whose stored names are not plain ASCII words (an S3 key, an admin import, an
assignment uploaded as `보고서.pdf`) are still found by nginx: Django percent-encodes the
X-Accel-Redirect path and nginx decodes it. Spaces, `%`, `#`, `?`, Hangul and accents, for lecture
videos (streamed with ranges) and for assignment files (downloaded as attachments)."""

import secrets
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from e2e.conftest import MP4, bearer, login, multipart, topic_create
from tools import fixtures

NAMES = {
    "space": "with space.mp4",
    "percent": "100% sure %41.mp4",
    "hash": "part #2.mp4",
    "question": "why?.mp4",
    "hangul": "강의 영상.mp4",
    "accent": "café.mp4",
    "everything": "a b%c#d?e 강의 é.mp4",
}
REPORT = b"%PDF-1.4\n% a report\n" + bytes(range(256))


@fixtures.closing
def records(videos: dict, submissions: dict) -> dict:
    """A video row per stored video and a submission per stored report; their ids by key."""
    from accounts.models import CustomUser
    from courses.models import Enrollment, Submission
    from videos.models import Video

    student = CustomUser.objects.get(email="student1@example.com")
    tutor = Enrollment.objects.get(user=student).course.tutor
    made = {"videos": {}, "submissions": {}}
    for n, (key, name) in enumerate(videos.items()):
        made["videos"][key] = Video.objects.create(
            status="ready",
            owner=tutor, topic_id=topic_create("video", key, position=900 + n), title=key,
            file=name, content_type="video/mp4", size=len(MP4), duration=4.0,
        ).pk  # fmt: skip
    for n, (key, name) in enumerate(submissions.items()):
        topic_id = topic_create("assignment", key, position=950 + n)
        made["submissions"][key] = Submission.objects.create(user=student, topic_id=topic_id,
                                                             file=name).pk  # fmt: skip
    return made


@pytest.fixture(scope="module")
def odd_files(edge) -> dict:
    """Videos and submissions stored under every awkward name, in the stack's protected root."""
    root = Path(edge.env["PROTECTED_MEDIA_ROOT"])
    folder = secrets.token_hex(4)
    videos = {key: f"videos/{folder} {key}/{name}" for key, name in NAMES.items()}
    submissions = {
        key: f"submissions/{folder}/{name.replace('.mp4', '.pdf')}" for key, name in NAMES.items()
    }
    for name, content in [*((n, MP4) for n in videos.values()),
                          *((n, REPORT) for n in submissions.values())]:  # fmt: skip
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    made = records(videos, submissions)
    return {"names": {"videos": videos, "submissions": submissions}, **made}


@pytest.fixture(scope="module")
def student(edge) -> dict:
    return bearer(login(edge, "student1@example.com")["access"])


@pytest.mark.parametrize("key", NAMES)
def test_a_video_under_an_awkward_name_streams_through_nginx(edge, odd_files, student, key):
    stream = f"/api/videos/{odd_files['videos'][key]}/stream/"
    whole = edge.request("GET", stream, headers=student)
    assert whole.status == 200, (whole.status, whole.body[:200], edge.nginx_log()[-500:])
    assert whole.body == MP4
    part = edge.request("GET", stream, headers={**student, "Range": "bytes=10-29"})
    assert part.status == 206
    assert part.body == MP4[10:30]
    assert part.header("Content-Range") == f"bytes 10-29/{len(MP4)}"


@pytest.mark.parametrize("key", NAMES)
def test_an_assignment_under_an_awkward_name_downloads_as_an_attachment(
    edge, odd_files, student, key
):
    reply = edge.request(
        "GET", f"/api/submissions/{odd_files['submissions'][key]}/file/", headers=student
    )
    assert reply.status == 200, (reply.status, reply.body[:200])
    assert reply.body == REPORT
    filename = Path(odd_files["names"]["submissions"][key]).name
    disposition = reply.header("Content-Disposition")
    assert disposition.startswith('attachment; filename="')
    assert disposition.endswith("filename*=UTF-8''" + quote(filename, safe=""))
    for header in ("X-Content-Type-Options", "Content-Disposition", "Cache-Control"):
        assert len(reply.header_values(header)) == 1, (header, reply.header_list)
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("Cache-Control") == "private, no-store"
    assert reply.header("Content-Type") == "application/octet-stream"  # Django's, not by suffix


def test_an_assignment_uploaded_with_a_hangul_name_downloads_through_nginx(edge, student):
    topic_id = topic_create("assignment", "Report", position=990)
    body, content_type = multipart({"text": "attached"}, "최종 보고서.txt", "내용".encode())
    created = edge.request(
        "POST",
        f"/api/topics/{topic_id}/submissions/",
        body=body,
        headers={**student, "Content-Type": content_type},
    )
    assert created.status == 201, created.body
    url = created.json()["file"]
    assert url.startswith("https://localhost") and url.endswith("/file/")
    download = edge.request("GET", urlsplit(url).path, headers=student)
    assert download.status == 200, download.body[:200]
    assert download.body == "내용".encode()
    assert "%EC%B5%9C%EC%A2%85" in download.header("Content-Disposition")  # 최종


@pytest.mark.parametrize("kind", ["videos", "submissions"])
def test_the_files_are_never_reachable_by_their_path(edge, odd_files, student, kind):
    for name in odd_files["names"][kind].values():
        for prefix in ("/protected-videos/", "/media/", "/"):
            for client in (student, {}):
                reply = edge.request("GET", prefix + quote(name), headers=client)
                assert reply.status == 404, (prefix, name, reply.status)

"""Uploads on an S3 object store as deployed beyond one host: two gunicorn instances, each with
upload folders of its own, nginx (TLS) and SeaweedFS on loopback. A picture uploaded through
nginx is listed by the other instance and served by nginx from the public bucket; an assignment
file uploaded through one instance is sent by nginx from the protected bucket for the other
(X-Accel-Redirect to a presigned URL, with Range), to its learner only; nothing of the store
shows; no instance keeps a file on disk; the store down is 503 in the envelope, then it recovers."""

import io
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from PIL import Image as PILImage

from e2e.conftest import DEMO_PASSWORD, bearer, multipart
from tools.app import PROXIED
from tools.stack import Stack, stack

REPORT = b"%PDF-1.4\n% an assignment\n" + bytes(range(256)) * 64
REPORT_NAME = "보고서 final.pdf"
SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options")
ASSIGNMENT = """
from courses.models import Enrollment, Topic
lecture = Enrollment.objects.get(user__email="student1@example.com").course.lectures.first()
topic = Topic.objects.create(
    lecture=lecture, title="Report", type="assignment", position=lecture.topics.count()
)
print(topic.pk)
"""


@pytest.fixture(scope="module")
def stored() -> Stack:
    with stack(object_store=True, access_log=True) as running:
        running.manage("seed_demo")
        yield running


def login(running: Stack, email: str) -> dict:
    reply = running.request(
        "POST", "/api/auth/login/", body={"login": email, "password": DEMO_PASSWORD}
    )
    assert reply.status == 200, reply.body
    return bearer(reply.json()["access"])


def direct(running: Stack, instance: int, method: str, path: str, **kwargs):
    """A request to one gunicorn instance, as nginx forwards it."""
    headers = {**PROXIED, **kwargs.pop("headers", {})}
    port = running.gunicorn_ports[instance]
    return running.request(method, path, port=port, headers=headers, **kwargs)


def png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def store_shows_nothing(reply) -> None:
    leaked = [name for name, _ in reply.header_list if re.match(r"(?i)x-amz-|seaweed", name)]
    assert not leaked, reply.header_list
    assert "SeaweedFS" not in (reply.header("Server") or "")
    for name in SECURITY_HEADERS:
        assert len(reply.header_values(name)) == 1, (name, reply.header_list)


@pytest.fixture(scope="module")
def picture(stored) -> dict:
    tutor = login(stored, "tutor@example.com")
    body, content_type = multipart({}, "red.png", png())
    reply = stored.request(
        "POST", "/api/images/", body=body, headers={**tutor, "Content-Type": content_type}
    )
    assert reply.status == 201, reply.body
    return {**reply.json(), "tutor": tutor}


@pytest.fixture(scope="module")
def submission(stored) -> dict:
    """An assignment file student1 uploaded through instance 0."""
    topic = json.loads(stored.manage("shell", "-c", ASSIGNMENT).splitlines()[-1])
    learner = login(stored, "student1@example.com")
    body, content_type = multipart({}, REPORT_NAME, REPORT)
    reply = direct(
        stored,
        0,
        "POST",
        f"/api/topics/{topic}/submissions/",
        body=body,
        headers={**learner, "Content-Type": content_type},
    )
    assert reply.status == 201, reply.body
    return {**reply.json(), "learner": learner}


def test_a_picture_uploaded_through_nginx_is_listed_by_the_other_instance_and_served(
    stored, picture
):
    url = picture["url"]
    assert url.startswith(f"https://localhost:{stored.https_port}/media-store/")
    listed = direct(stored, 1, "GET", "/api/images/", headers=picture["tutor"])
    assert listed.status == 200
    assert [image["url"] for image in listed.json()["results"]] == [url]
    served = stored.request("GET", urlsplit(url).path)
    assert served.status == 200
    store = stored.object_store
    key = url.split("/media-store/", 1)[1]
    kept = store.client().get_object(Bucket=store.public_bucket, Key=key)["Body"].read()
    assert served.body == kept and kept[:4] == b"RIFF"
    assert served.header("Content-Type") == "image/webp"
    assert "sandbox" in served.header("Content-Security-Policy")
    store_shows_nothing(served)


def test_a_protected_file_is_sent_by_nginx_from_the_store_for_either_instance_with_ranges(
    stored, submission
):
    path = urlsplit(submission["file"]).path
    pointer = direct(stored, 1, "GET", path, headers=submission["learner"])
    assert (pointer.status, pointer.body) == (200, b"")
    assert pointer.header("X-Accel-Redirect").startswith("/protected-store/lms-protected/")
    # Round robin: both instances answer one of these; nginx fetches each from the store.
    for _ in range(4):
        part = stored.request(
            "GET", path, headers={**submission["learner"], "Range": "bytes=1000-2999"}
        )
        assert part.status == 206, part.body[:300]
        assert part.body == REPORT[1000:3000]
        assert part.header("Content-Range") == f"bytes 1000-2999/{len(REPORT)}"
        assert part.header("Cache-Control") == "private, no-store"
        assert part.header("Content-Type") == "application/octet-stream"
        assert part.header("Content-Disposition").endswith(
            "filename*=UTF-8''%EB%B3%B4%EA%B3%A0%EC%84%9C_final.pdf"  # as stored
        )
        store_shows_nothing(part)
    served_by = [stored.run_dir / "logs" / f"gunicorn-{index}.log" for index in (0, 1)]
    assert all(f"GET {path}" in log.read_text() for log in served_by)
    whole = stored.request("GET", path, headers=submission["learner"])
    assert (whole.status, whole.body) == (200, REPORT)


def test_a_stranger_gets_nothing_and_the_store_locations_give_nothing_away(stored, submission):
    path = urlsplit(submission["file"]).path
    stranger = stored.request("GET", path, headers=login(stored, "student2@example.com"))
    assert stranger.status == 404
    assert stranger.json()["error"]["code"] == "not_found"
    # Even a signed URI from Django's own answer is internal to nginx.
    signed = direct(stored, 1, "GET", path, headers=submission["learner"])
    outside = stored.request("GET", signed.header("X-Accel-Redirect"))
    assert outside.status == 404 and REPORT[:20] not in outside.body
    key = signed.header("X-Accel-Redirect").split("?")[0].removeprefix("/protected-store/")
    for attempt in (
        f"/media-store/{key.split('/', 1)[1]}",  # the protected key in the public bucket
        f"/media-store/../{key}",
        "/media-store/",  # a listing
        "/media-store/x?list-type=2",
    ):
        refused = stored.request("GET", attempt)
        assert refused.status == 404, (attempt, refused.status, refused.body[:200])
        assert b"<?xml" not in refused.body
        store_shows_nothing(refused)
        if "/../" not in attempt:  # nginx resolves that one to a path of Django's
            assert refused.code == "not_found", refused.body
    written = stored.request("POST", "/media-store/x", body=b"x")
    assert (written.status, written.code) == (404, "not_found")


def test_a_file_gone_from_the_store_is_404_in_the_envelope(stored, submission):
    path = urlsplit(submission["file"]).path
    signed = direct(stored, 0, "GET", path, headers=submission["learner"])
    key = unquote(signed.header("X-Accel-Redirect").split("?")[0]).split("/", 3)[3]
    store = stored.object_store
    client = store.client()
    client.delete_object(Bucket=store.protected_bucket, Key=key)
    try:
        gone = stored.request("GET", path, headers=submission["learner"])
    finally:
        client.put_object(Bucket=store.protected_bucket, Key=key, Body=REPORT)
    assert (gone.status, gone.code) == (404, "not_found"), gone.body
    assert gone.header("Content-Disposition") is None, "no attachment of an error"
    store_shows_nothing(gone)


def test_no_instance_keeps_an_upload_on_disk(stored, picture, submission):
    folders = [
        stored.run_dir / f"{kind}-{index}" for kind in ("media", "protected") for index in (0, 1)
    ]
    folders += [stored.run_dir / "media", stored.run_dir / "protected"]
    assert all(folder.is_dir() for folder in folders)
    assert [path for folder in folders for path in Path(folder).rglob("*") if path.is_file()] == []
    store = stored.object_store
    assert len(store.keys(store.protected_bucket)) == 1
    assert len(store.keys(store.public_bucket)) == 1


def test_with_the_store_down_uploads_and_downloads_are_503_then_work_again(stored, submission):
    store = stored.object_store
    tutor = login(stored, "tutor@example.com")
    path = urlsplit(submission["file"]).path
    body, content_type = multipart({}, "red.png", png())
    upload = {**tutor, "Content-Type": content_type}
    store.stop()
    try:
        refused = stored.request("POST", "/api/images/", body=body, headers=upload)
        assert (refused.status, refused.code) == (503, "storage_unavailable"), refused.body
        assert refused.retry_after == "5"
        download = stored.request("GET", path, headers=submission["learner"])
        assert (download.status, download.code) == (503, "storage_unavailable"), download.body
        store_shows_nothing(download)
    finally:
        store.start()
    assert stored.request("POST", "/api/images/", body=body, headers=upload).status == 201
    again = stored.request("GET", path, headers=submission["learner"])
    assert (again.status, again.body) == (200, REPORT)

"""Video delivery as deployed beyond one host: nginx, two gunicorn instances that share no disk,
a Celery worker, SeaweedFS, Redis and PostgreSQL on loopback. A tutor uploads through nginx, the
worker makes the HLS ladder, a learner of the course gets signed URLs and headless Chromium plays
the stream with hls.js served by the project, and the MP4 fallback in a plain <video>, with no
credentials; nginx checks every file's signature without Django. A stranger, a tampered
signature and an expired URL get 403; playlists lead only to signed files."""

from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from e2e import chromium as browsers
from tools import videos
from tools.procs import free_port
from tools.stack import Stack, stack

PAGE = Path(__file__).parent / "browser" / "hls_player.html"
PAGE_PATH = "/player.html"
HLS_JS = "/static/videos/vendor/hls-1.7.4.light.min.js"
BROWSER_TIMEOUT = 60  # seconds for the page's report; a run takes about 3 s
CLIP = {"seconds": 6, "size": "1280x720"}  # two rungs: 360p and 720p


@pytest.fixture(scope="module")
def delivery() -> Stack:
    with stack(object_store=True, celery_worker=True, access_log=True) as running:
        yield running


@pytest.fixture(scope="module")
def people(delivery) -> dict:
    return videos.course_with_video_topic(delivery, "e2e-video")


@pytest.fixture(scope="module")
def ready_video(delivery, people, tmp_path_factory) -> dict:
    """A clip uploaded by the tutor through nginx and processed by the worker."""
    data = videos.clip(tmp_path_factory.mktemp("clips") / "clip.mp4", **CLIP).read_bytes()
    tutor = videos.login(delivery, people["tutor"])
    reply = videos.upload(delivery, tutor, data, topic=people["topic"])
    assert reply.status == 201, reply.body
    assert reply.json()["status"] == "processing"
    video = videos.wait_processed(delivery, tutor, reply.json()["id"])
    assert video["status"] == "ready", (video, delivery.worker_log()[-3000:])
    return {**video, "stream_key": videos.stream_key(delivery, video["id"])}


def playback(delivery, people, video_id: int, who: str = "learner"):
    token = videos.login(delivery, people[who])
    return delivery.request(
        "GET", f"/api/videos/{video_id}/playback/", headers=videos.bearer(token)
    )


def get(delivery, url: str, **headers):
    """A GET through nginx of a signed URL's path, with no credentials."""
    return delivery.request("GET", urlsplit(url).path, headers=headers)


def test_the_upload_answers_before_processing_and_the_worker_makes_the_ladder(
    delivery, ready_video
):
    assert [r["name"] for r in ready_video["renditions"]] == ["360p", "720p"]
    assert ready_video["duration"] == pytest.approx(CLIP["seconds"], abs=0.3)
    store = delivery.object_store
    keys = store.keys(store.protected_bucket, f"hls/{ready_video['stream_key']}/")
    assert any(key.endswith("/720p/index.m3u8") for key in keys)
    # Nothing on any instance's disk: the files live on the object store alone.
    for env in delivery.instance_envs:
        for root in (env["MEDIA_ROOT"], env["PROTECTED_MEDIA_ROOT"]):
            assert not [path for path in Path(root).rglob("*") if path.is_file()], root


def test_signed_files_are_served_by_nginx_without_django(delivery, people, ready_video):
    urls = playback(delivery, people, ready_video["id"]).json()
    before = delivery.gunicorn_log().count("/hls/")
    master = get(delivery, urls["hls"])
    assert master.status == 200, master.body
    assert master.header("Content-Type") == "application/vnd.apple.mpegurl"
    assert master.header("Access-Control-Allow-Origin") == "*"
    variants = [line for line in master.body.decode().splitlines() if line.endswith(".m3u8")]
    assert variants == ["360p/index.m3u8", "720p/index.m3u8"]
    listing = get(delivery, urljoin(urls["hls"], variants[1]))
    segments = [line for line in listing.body.decode().splitlines() if line.endswith(".ts")]
    segment = get(delivery, urljoin(urljoin(urls["hls"], variants[1]), segments[0]))
    assert segment.status == 200 and segment.header("Content-Type") == "video/mp2t"
    assert segment.body[:1] == b"G" and not segment.header("x-amz-request-id")
    ranged = get(delivery, urls["mp4"], Range="bytes=0-7")
    assert ranged.status == 206 and ranged.body[4:8] == b"ftyp"
    assert delivery.gunicorn_log().count("/hls/") == before  # no instance saw these


def test_strangers_tampering_and_expiry_get_403(delivery, people, ready_video):
    stranger_email = videos.course_with_video_topic(delivery, "e2e-stranger")["learner"]
    stranger = playback(delivery, {"learner": stranger_email}, ready_video["id"])
    assert stranger.status == 403 and stranger.code == "not_entitled"

    master = playback(delivery, people, ready_video["id"]).json()["hls"]
    parts = urlsplit(master).path.split("/")  # "", "hls", user, expires, token, key, file
    tampered = {
        "user": (2, str(int(parts[2]) + 1)),
        "expiry": (3, str(int(parts[3]) + 60)),
        "token": (4, "A" * 22),
        "stream": (5, "0" * 32),
        "file": (6, "fallback.mp4"),
    }
    for name, (index, value) in tampered.items():
        changed = list(parts)
        changed[index] = value
        reply = delivery.request("GET", "/".join(changed))
        if name == "file":  # the signature covers the stream, not one file of it
            assert reply.status == 200, name
            continue
        assert reply.status == 403, name
        assert reply.code == "permission_denied", name

    expired = delivery.manage(
        "shell", "-c",
        "import time; from videos.playback import signed_path; print(signed_path("
        f"user_id={int(parts[2])}, stream_key='{ready_video['stream_key']}', "
        "expires=int(time.time()) - 1, file='master.m3u8'))",
    ).splitlines()[-1]  # fmt: skip
    assert delivery.request("GET", expired).status == 403
    for path in ("/hls/", "/hls/../../etc/passwd", f"/hls/{'/'.join(parts[2:6])}/../x.ts"):
        assert delivery.request("GET", path).status in (400, 403, 404), path
    # The stream's files are not reachable around the signature, from nginx's other locations.
    key = ready_video["stream_key"]
    for path in (f"/stream-store/{key}/master.m3u8", f"/stream-disk/{key}/master.m3u8",
                 f"/media-store/../lms-protected/hls/{key}/master.m3u8",
                 f"/media-store/%2e%2e/lms-protected/hls/{key}/master.m3u8"):  # fmt: skip
        assert delivery.request("GET", path).status in (403, 404), path


def test_chromium_plays_hls_with_hls_js_and_the_mp4_fallback(delivery, people, ready_video):
    chromium = browsers.chromium_path()
    urls = playback(delivery, people, ready_video["id"]).json()
    api = delivery.base_url
    origin = f"https://127.0.0.1:{free_port()}"  # another origin than the API's: CORS applies
    query = {
        "hls": api + urlsplit(urls["hls"]).path,
        "mp4": api + urlsplit(urls["mp4"]).path,
        "script": api + HLS_JS,
        "seconds": "1.5",
    }
    spki = browsers.certificate_spki(delivery.certificate)
    port = int(urlsplit(origin).port or 443)
    with browsers.reporting_page(PAGE.read_bytes(), PAGE_PATH, port, delivery.certificate) as out:
        result = browsers.page_report(
            chromium, spki, f"{origin}{PAGE_PATH}?{urlencode(query)}", out,
            timeout=BROWSER_TIMEOUT, extra=("--autoplay-policy=no-user-gesture-required",),
        )  # fmt: skip
    assert "error" not in result, result
    hls, mp4 = result["hls"], result["mp4"]
    assert hls["error"] is None and hls["fatal"] is None, hls
    assert hls["levels"] == [360, 720]
    assert hls["currentTime"] >= 1.5 and hls["height"] in (360, 720)
    assert mp4["error"] is None and mp4["currentTime"] >= 1.5, mp4

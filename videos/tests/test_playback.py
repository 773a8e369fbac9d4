"""Signed playback URLs: issued only to whoever may watch now, and refused (403) once any part of
them is changed or they have expired; the stream's playlists lead only to signed files."""

import time
from typing import cast
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.testing import client_for
from accounts.tests.factories import TutorFactory, UserFactory
from core.testing import assert_error_envelope
from courses.models import EnrollmentSource, Topic, TopicType
from courses.services.enrollments import enrollment_grant, enrollments_revoke
from courses.tests.factories import TopicFactory
from tools.videos import clip
from videos import playback
from videos.models import Video
from videos.services import processing
from videos.services.videos import video_upload

KEY = "0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> bytes:
    return clip(
        tmp_path_factory.mktemp("clips") / "lecture.mp4", seconds=2, size="320x240"
    ).read_bytes()


def _processed_video(clip_bytes: bytes) -> Video:
    tutor = TutorFactory()
    topic = cast(Topic, TopicFactory(type=TopicType.VIDEO, lecture__course__tutor=tutor))
    file = SimpleUploadedFile("lecture.mp4", clip_bytes, content_type="video/mp4")
    video = video_upload(owner=tutor, file=file, title="Lecture", topic=topic)
    assert processing.video_process(video_id=video.pk, worker="task-1") == "ready"
    video.refresh_from_db()
    return video


@pytest.fixture
def video(db, settings, clip_bytes) -> Video:
    settings.VIDEO_HEARTBEAT_SECONDS = 3600  # no second connection inside the test's transaction
    return _processed_video(clip_bytes)


@pytest.fixture
def learner(video):
    user = UserFactory()
    course = video.topic.lecture.course
    enrollment_grant(user=user, course=course, source=EnrollmentSource.PURCHASE, reference="o-1")
    return user


def path_of(url: str) -> str:
    return urlsplit(url).path


def fetch(path: str, **headers):
    return Client().get(path, **headers)  # no credentials: the signature is the only one


# --- The signature ---------------------------------------------------------------------------


class TestSignature:
    def signed(self, *, expires: int | None = None) -> str:
        expires = int(time.time()) + 60 if expires is None else expires
        return playback.signed_path(user_id=7, stream_key=KEY, expires=expires, file="master.m3u8")

    def test_a_signed_path_checks_and_names_its_stream_and_file(self):
        assert playback.signed_path_check(self.signed()) == (KEY, "master.m3u8")
        nested = self.signed().replace("master.m3u8", "720p/seg_00001.ts")
        assert playback.signed_path_check(nested) == (KEY, "720p/seg_00001.ts")

    @pytest.mark.parametrize(
        ("part", "value"),
        [(2, "8"), (3, str(int(time.time()) + 3600)), (4, "A" * 22), (5, "f" * 32)],
        ids=["user", "expiry", "token", "video"],
    )
    def test_changing_any_signed_part_is_refused(self, part, value):
        parts = self.signed().split("/")  # "", "hls", user, expires, token, key, file
        parts[part] = value
        assert playback.signed_path_check("/".join(parts)) is None

    def test_an_expired_path_is_refused(self):
        path = self.signed(expires=int(time.time()) - 1)
        assert playback.signed_path_check(path) is None
        later = self.signed(expires=1_000)
        assert playback.signed_path_check(later, now=999) == (KEY, "master.m3u8")
        assert playback.signed_path_check(later, now=1_001) is None

    @pytest.mark.parametrize(
        "file",
        ["../master.m3u8", "720p/../../x.ts", "a/b/c.ts", "master.m3u8x", "x.jpg", "%2e%2e/x.ts",
         "master.m3u8/", "\uff4daster.m3u8", "master.M3U8\n"],
    )  # fmt: skip
    def test_only_the_stream_folder_files_are_reachable(self, file):
        path = self.signed().replace("master.m3u8", file)
        assert playback.signed_path_check(path) is None

    def test_the_token_is_nginx_secure_link_md5_of_expiry_user_key_and_secret(self, settings):
        import base64
        import hashlib

        settings.MEDIA_SIGNING_KEY = "k" * 40
        digest = hashlib.md5(f"100 7 {KEY} {'k' * 40}".encode()).digest()  # noqa: S324
        expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        assert playback.token(expires=100, user_id=7, stream_key=KEY) == expected

    def test_expiries_round_up_to_the_minute_past_the_lifetime_and_duration(self, settings):
        settings.VIDEO_PLAYBACK_URL_SECONDS = 3600
        assert playback.playback_expiry(duration=100, now=60_020) == 63_720
        assert playback.playback_expiry(duration=100.5, now=60_020) == 63_780


# --- The API and the signed files ------------------------------------------------------------


class TestPlayback:
    def test_a_learner_gets_urls_that_play_without_credentials(self, video, learner):
        response = client_for(learner).get(f"/api/videos/{video.pk}/playback/")
        assert response.status_code == 200, response.content
        body = response.json()
        assert response["Cache-Control"] == "private, no-store"
        assert body["expires_at"] > time.time() + 3600
        assert f"/hls/{learner.pk}/" in body["hls"] and body["hls"].endswith("/master.m3u8")
        assert body["poster"].endswith("/poster.jpg") and body["thumbnails"].endswith(".vtt")

        master = fetch(path_of(body["hls"]))
        assert master.status_code == 200
        assert master["Content-Type"] == "application/vnd.apple.mpegurl"
        assert master["Access-Control-Allow-Origin"] == "*"
        text = master.content.decode()
        variant = next(line for line in text.splitlines() if line and not line.startswith("#"))
        assert not urlsplit(variant).scheme and not variant.startswith("/")
        variant_path = urljoin(path_of(body["hls"]), variant)
        listing = fetch(variant_path).content.decode()
        segment = next(line for line in listing.splitlines() if line.endswith(".ts"))
        piece = fetch(urljoin(variant_path, segment))
        assert piece.status_code == 200 and piece["Content-Type"] == "video/mp2t"
        assert b"".join(piece.streaming_content)[:1] == b"G"  # an MPEG-TS sync byte

    def test_the_mp4_fallback_answers_byte_ranges(self, video, learner):
        body = client_for(learner).get(f"/api/videos/{video.pk}/playback/").json()
        ranged = fetch(path_of(body["mp4"]), HTTP_RANGE="bytes=0-7")
        assert ranged.status_code == 206
        assert ranged["Content-Type"] == "video/mp4"
        assert b"".join(ranged.streaming_content)[4:8] == b"ftyp"

    def test_tampered_and_expired_urls_are_403_in_the_error_envelope(self, video, learner):
        hls = path_of(client_for(learner).get(f"/api/videos/{video.pk}/playback/").json()["hls"])
        other = UserFactory()
        for path in (
            hls.replace(f"/hls/{learner.pk}/", f"/hls/{other.pk}/"),
            playback.signed_path(
                user_id=learner.pk, stream_key=video.stream_key, expires=int(time.time()) - 5,
                file="master.m3u8",
            ),
        ):  # fmt: skip
            assert_error_envelope(fetch(path), 403, "permission_denied")

    def test_a_missing_file_of_a_valid_signature_is_404(self, video, learner):
        path = playback.signed_path(
            user_id=learner.pk, stream_key=video.stream_key, expires=int(time.time()) + 60,
            file="1080p/index.m3u8",
        )  # fmt: skip
        assert fetch(path).status_code == 404

    def test_a_stranger_is_refused_and_an_anonymous_caller_must_sign_in(self, video):
        stranger = client_for(UserFactory()).get(f"/api/videos/{video.pk}/playback/")
        assert_error_envelope(stranger, 403, "not_entitled")
        anonymous = Client().get(f"/api/videos/{video.pk}/playback/")
        assert anonymous.status_code == 401

    def test_after_a_refund_no_new_url_is_issued(self, video, learner):
        assert client_for(learner).get(f"/api/videos/{video.pk}/playback/").status_code == 200
        enrollments_revoke(user=learner, reference="o-1")
        refused = client_for(learner).get(f"/api/videos/{video.pk}/playback/")
        assert_error_envelope(refused, 403, "not_entitled")

    def test_the_owner_gets_urls_for_a_video_in_no_course(self, video):
        Video.objects.filter(pk=video.pk).update(topic=None)
        response = client_for(video.owner).get(f"/api/videos/{video.pk}/playback/")
        assert response.status_code == 200


@pytest.mark.django_db
def test_on_the_object_store_playlists_are_answered_and_segments_redirected(
    settings, object_store, clip_bytes
):
    """Without nginx (Django checks the signature), a stream on S3: a playlist is answered by
    Django (players resolve its relative URLs against it), a segment is a redirect to a
    presigned URL of the store, a missing file is 404."""
    settings.STORAGES = object_store.storages()
    settings.VIDEO_HEARTBEAT_SECONDS = 3600
    video = _processed_video(clip_bytes)
    keys = object_store.keys(object_store.protected_bucket)
    assert any(key.endswith(f"hls/{video.stream_key}/master.m3u8") for key in keys)
    signed = {"user_id": video.owner_id, "stream_key": video.stream_key,
              "expires": int(time.time()) + 60}  # fmt: skip
    master = fetch(playback.signed_path(**signed, file="master.m3u8"))
    assert master.status_code == 200 and master.content.startswith(b"#EXTM3U")
    segment = fetch(playback.signed_path(**signed, file="240p/seg_00000.ts"))
    assert segment.status_code == 302 and "X-Amz-Signature=" in segment["Location"]
    assert fetch(playback.signed_path(**signed, file="240p/seg_00099.ts")).status_code == 404


class TestAttacks:
    def test_a_tutor_cannot_make_a_failed_video_ready_through_the_api(self, video):
        Video.objects.filter(pk=video.pk).update(status="failed", failure_reason="Broken.")
        owner = client_for(video.owner)
        response = owner.patch(
            f"/api/videos/{video.pk}/",
            {"title": "Fixed", "status": "ready", "failure_reason": "", "renditions": [],
             "stream_key": "f" * 32},
            format="json",
        )  # fmt: skip
        assert response.status_code == 200
        video.refresh_from_db()
        assert (video.title, video.status, video.failure_reason) == ("Fixed", "failed", "Broken.")
        assert video.stream_key != "f" * 32

    @pytest.mark.parametrize("video_id", ["99999999999999999999999", "0", "-1", "1e3", "\uff11"])
    def test_absurd_ids_are_404_never_500(self, video, learner, video_id):
        response = client_for(learner).get(f"/api/videos/{video_id}/playback/")
        assert response.status_code == 404

    def test_one_viewers_url_names_them_and_is_useless_once_expired(self, video, learner):
        """A URL shared with someone else works for them only as long as it lives (it is a
        bearer credential, as a presigned URL is), and names who it was issued to."""
        body = client_for(learner).get(f"/api/videos/{video.pk}/playback/").json()
        assert f"/hls/{learner.pk}/{body['expires_at']}/" in body["hls"]
        later = body["expires_at"] + 1
        assert playback.signed_path_check(path_of(body["hls"]), now=later) is None


def test_make_run_serves_the_poster_itself_and_production_does_not(settings, video):
    """DEBUG (`make run`, no nginx) serves public media from MEDIA_ROOT; without DEBUG the URL
    patterns hold no media route (nginx or the object store serves them)."""
    from importlib import reload

    from django.urls import clear_url_caches

    import config.urls

    path = path_of(client_for(video.owner).get(f"/api/videos/{video.pk}/").json()["poster"])
    try:
        for debug, expected in ((True, 200), (False, 404)):
            settings.DEBUG = debug
            reload(config.urls)
            clear_url_caches()
            response = Client().get(path)
            assert response.status_code == expected, debug
            if expected == 200:
                assert b"".join(response.streaming_content)[:3] == b"\xff\xd8\xff"
    finally:
        settings.DEBUG = False
        reload(config.urls)
        clear_url_caches()

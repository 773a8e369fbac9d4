"""The kept catalogue (courses.catalogue_cache): the course list and published outlines answer with
a strong ETag (304 when it matches), are never stale after a committed write, keep only what every
caller reads alike, and answer from the database when the cache is out of reach."""

import fnmatch
import io
import re

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.testing import client_for
from core.testing import HANGUL, CommittingAPIClient, assert_error_envelope
from courses import catalogue_cache
from courses.models import Course, Lecture, Topic
from courses.tests.factories import CourseFactory, LectureFactory, TopicFactory

LIST = "/api/courses/"
STRONG_ETAG = re.compile(r'^"[0-9a-f]{32}"$')
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "core.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def outline_url(course) -> str:
    return f"/api/courses/{course.pk}/"


def kept(pattern: str = "catalogue:answer:*") -> int:
    """How many of this test's cache keys match `pattern` (the KEY_PREFIX is the test's own)."""
    full_pattern = cache.make_key(pattern)
    store = cache._cache  # type: ignore[attr-defined]
    if isinstance(store, dict):  # LocMemCache (no REDIS_URL): its own dict of full keys
        return len(fnmatch.filter(store, full_pattern))
    return len(store.get_client().keys(full_pattern))


def get(url: str, client=None, **query_or_headers):
    """An anonymous GET (or `client`'s); keyword arguments in upper case are headers."""
    headers = {k: v for k, v in query_or_headers.items() if k.isupper()}
    query = {k: v for k, v in query_or_headers.items() if not k.isupper()}
    return (client or CommittingAPIClient()).get(url, query, **headers)


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [course["title"] for course in response.json()["results"]]


def warm(*urls: str) -> dict[str, str]:
    """Reads each URL anonymously so that its answer is kept: the ETag of each."""
    etags = {url: get(url)["ETag"] for url in urls}
    assert kept() == len(urls)
    return etags


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def course(db):
    """Published, with one lecture of two topics."""
    course = CourseFactory(title="Kept course")
    lecture = LectureFactory(course=course, title="Basics", position=0)
    TopicFactory(lecture=lecture, title="Welcome", position=0)
    TopicFactory(lecture=lecture, title="Setup", position=1)
    return course


@pytest.fixture(params=["list", "outline"])
def url(request, course) -> str:
    return LIST if request.param == "list" else outline_url(course)


# --- Conditional GET -------------------------------------------------------------------------


@pytest.mark.django_db
class TestETag:
    def test_an_answer_carries_a_strong_etag_and_must_be_revalidated(self, url):
        response = get(url)
        assert response.status_code == 200
        assert STRONG_ETAG.match(response["ETag"]), response["ETag"]
        assert response["Cache-Control"] == "no-cache"
        assert response["Content-Type"] == "application/json"

    @pytest.mark.parametrize(
        "if_none_match",
        ["{etag}", '"other", {etag}', "W/{etag}", "*"],
        ids=["same", "in-a-list", "weak-form", "star"],
    )
    def test_a_matching_if_none_match_is_304_with_no_body(self, url, if_none_match):
        etag = get(url)["ETag"]
        response = get(url, HTTP_IF_NONE_MATCH=if_none_match.format(etag=etag))
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert response["Cache-Control"] == "no-cache"

    @pytest.mark.parametrize("if_none_match", ['"0123"', "garbage", '""', ","])
    def test_another_etag_gets_the_whole_answer(self, url, if_none_match):
        first = get(url)
        response = get(url, HTTP_IF_NONE_MATCH=if_none_match)
        assert response.status_code == 200
        assert (response.content, response["ETag"]) == (first.content, first["ETag"])

    def test_the_kept_answer_is_byte_for_byte_the_computed_one(self, url):
        cold, warm_ = get(url), get(url)
        assert kept() == 1
        assert (warm_.content, warm_["ETag"]) == (cold.content, cold["ETag"])


# --- Read after write ------------------------------------------------------------------------


@pytest.mark.django_db
class TestNeverStale:
    """Each write goes through the API (or the ORM, as the admin does) after the list and the
    outline were kept; the next read shows it, under another ETag."""

    def assert_both_changed(self, course, etags) -> tuple[dict, dict]:
        listed, outline = get(LIST), get(outline_url(course))
        assert listed["ETag"] != etags[LIST]
        assert outline["ETag"] != etags[outline_url(course)]
        return listed.json(), outline.json()

    def test_a_new_title(self, course):
        etags = warm(LIST, outline_url(course))
        response = client_for(course.tutor).patch(outline_url(course), {"title": "Renamed"})
        assert response.status_code == 200
        listed, outline = self.assert_both_changed(course, etags)
        assert ([c["title"] for c in listed["results"]], outline["title"]) == (
            ["Renamed"],
            "Renamed",
        )

    def test_a_put_of_the_tree_that_renames_adds_and_removes_topics(self, course):
        etags = warm(LIST, outline_url(course))
        tutor = client_for(course.tutor)
        body = tutor.get(f"/api/courses/{course.pk}/edit/").json()
        lecture = body["lectures"][0]
        lecture["title"] = "Basics, renamed"
        lecture["topics"] = [
            {**lecture["topics"][1], "title": "Setup, renamed"},
            {"title": "New", "type": "article"},
            {"title": "Newer", "type": "article"},
        ]
        assert tutor.put(outline_url(course), body).status_code == 200
        listed, outline = self.assert_both_changed(course, etags)
        assert listed["results"][0]["topic_count"] == 3
        (lecture,) = outline["lectures"]
        assert lecture["title"] == "Basics, renamed"
        assert [t["title"] for t in lecture["topics"]] == ["Setup, renamed", "New", "Newer"]

    def test_a_new_price(self, course):
        etags = warm(LIST, outline_url(course))
        client_for(course.tutor).patch(outline_url(course), {"price": 12345})
        listed, outline = self.assert_both_changed(course, etags)
        assert (listed["results"][0]["price"], outline["price"]) == (12345, 12345)

    def test_an_unpublished_course_leaves_the_list_and_its_outline_is_404(self, course):
        warm(LIST, outline_url(course))
        client_for(course.tutor).patch(outline_url(course), {"is_published": False})
        assert titles(get(LIST)) == []
        assert_error_envelope(get(outline_url(course)), 404, "not_found")

    def test_a_published_draft_appears(self, course):
        draft = CourseFactory(title="Draft", is_published=False, tutor=course.tutor)
        warm(LIST)
        client_for(draft.tutor).patch(outline_url(draft), {"is_published": True})
        assert titles(get(LIST)) == ["Draft", "Kept course"]
        assert get(outline_url(draft)).json()["title"] == "Draft"

    def test_a_new_thumbnail_url(self, course, files_in_tmp):
        etags = warm(LIST, outline_url(course))
        tutor, path = client_for(course.tutor), f"/api/courses/{course.pk}/thumbnail/"
        upload = {"file": io.BytesIO(png())}
        upload["file"].name = "cover.png"
        assert tutor.put(path, upload, format="multipart").status_code == 200
        course.refresh_from_db()
        url = f"http://testserver/media/{course.thumbnail.name}"
        listed, outline = self.assert_both_changed(course, etags)
        assert (listed["results"][0]["thumbnail"], outline["thumbnail"]) == (url, url)

    def test_a_deleted_course(self, course):
        warm(LIST, outline_url(course))
        assert client_for(course.tutor).delete(outline_url(course)).status_code == 204
        assert titles(get(LIST)) == []
        assert_error_envelope(get(outline_url(course)), 404, "not_found")

    def test_the_tutor_renaming_themselves(self, course):
        etags = warm(LIST, outline_url(course))
        me = {"username": "renamed_tutor", "name": "Renamed Tutor"}
        assert client_for(course.tutor).patch("/api/users/me/", me).status_code == 200
        listed, outline = self.assert_both_changed(course, etags)
        for tutor in (listed["results"][0]["tutor"], outline["tutor"]):
            assert (tutor["username"], tutor["name"]) == ("renamed_tutor", "Renamed Tutor")

    def test_a_category_renamed_in_the_orm(self, course, django_capture_on_commit_callbacks):
        etags = warm(LIST, outline_url(course))
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            course.category.name = "Renamed category"
            course.category.save()
        listed, outline = self.assert_both_changed(course, etags)
        assert listed["results"][0]["category"]["name"] == "Renamed category"
        assert outline["category"]["name"] == "Renamed category"

    def test_a_topic_changed_or_deleted_in_the_orm(
        self, course, django_capture_on_commit_callbacks
    ):
        etags = warm(LIST, outline_url(course))
        welcome, setup = Topic.objects.order_by("position")
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            welcome.title = "Welcome, edited"
            welcome.save()
            setup.delete()
        listed, outline = self.assert_both_changed(course, etags)
        assert listed["results"][0]["topic_count"] == 1
        assert [t["title"] for t in outline["lectures"][0]["topics"]] == ["Welcome, edited"]

    def test_an_answer_made_while_a_write_commits_is_not_served_after_it(
        self, course, monkeypatch, django_capture_on_commit_callbacks
    ):
        """The write commits after the version was read and the answer computed, before the
        answer is kept: it carries the older version, so the next read computes afresh."""
        made = catalogue_cache._entry_made

        def write_meanwhile(data, version):
            monkeypatch.setattr(catalogue_cache, "_entry_made", made)
            with django_capture_on_commit_callbacks(execute=True):
                Lecture.objects.create(course=course, title="Late", position=1)
            return made(data, version)

        monkeypatch.setattr(catalogue_cache, "_entry_made", write_meanwhile)
        assert len(get(outline_url(course)).json()["lectures"]) == 1
        assert [lec["title"] for lec in get(outline_url(course)).json()["lectures"]] == [
            "Basics",
            "Late",
        ]


# --- What is kept ----------------------------------------------------------------------------


@pytest.mark.django_db
class TestWhatIsKept:
    def test_a_keepable_request_keeps_exactly_one_answer_however_often_it_is_read(self, course):
        for _ in range(3):
            get(LIST, page=1, page_size=5)
        assert kept() == 1

    @pytest.mark.parametrize(
        "query",
        [
            "?utm_source=x",
            "?page=1&page=1",
            "?page_size=5&page_size=6",
            "?search=",
            "?search=kept",
            "?format=json",
            "?mine=",
            "?mine=false",
        ],
    )
    def test_any_other_query_is_answered_from_the_database_and_not_kept(self, course, query):
        draft = CourseFactory(is_published=False)
        response = get(LIST + query, client=client_for(draft.tutor))
        assert titles(response) == ["Kept course"]
        assert kept() == 0

    def test_mine_is_never_kept(self, course):
        draft = CourseFactory(title="Draft", is_published=False)
        assert titles(get(LIST, client=client_for(draft.tutor), mine="true")) == ["Draft"]
        assert kept() == 0
        assert titles(get(LIST, mine="true")) == []

    @pytest.mark.parametrize(
        ("parameter", "spellings"),
        [
            ("page_size", ["020", "0020", "+20", "abc", "100000"]),
            ("page", ["01", "001", "+1", " 1", "1 "]),
            ("category", ["no-such-1", "no-such-2", "no-such-3", "no-such-4", "no-such-5"]),
            (
                "ordering",
                ["price", "price,price", "price,price,price", "price,-price", "-price,price"],
            ),
        ],
    )
    def test_values_a_caller_can_vary_without_end_do_not_each_keep_an_answer(
        self, course, parameter, spellings
    ):
        """Each spelling is answered alike, or is an empty page: keeping each under its own key
        (for CATALOGUE_CACHE_SECONDS) would let any caller fill Redis with keys of their choosing,
        and volatile-lru would then evict throttle counters and session verdicts to make room."""
        for spelling in spellings:
            assert get(LIST, **{parameter: spelling}).status_code == 200
        assert kept() <= 1

    @pytest.mark.parametrize(
        "queries",
        [
            ["page_size=1", "page_size=1&", "page_size=1&&", "&page_size=1", "&&page_size=1&&"],
            ["page_size=1", "page_size=%31", "%70age_size=1", "p%61ge_size=1", "%70%61ge_size=%31"],
            ["page_size=1", "page%5Fsize=1", "page%5fsize=1", "page_siz%65=1", "page%5Fsiz%65=1"],
        ],
        ids=["empty-pairs", "percent-encoded", "hex-case"],
    )
    def test_one_query_spelled_in_bytes_a_caller_chooses_keeps_one_answer(self, course, queries):
        """Each is the same query once parsed, with the same body (DRF rebuilds the page links
        from the parsed query): keeping each raw spelling apart has no bound."""
        CourseFactory()
        bodies = {get(f"{LIST}?{query}").content for query in queries}
        assert len(bodies) == 1
        assert b'"next":"http://testserver/api/courses/?page=2&page_size=1"' in bodies.pop()
        assert kept() <= 1

    @pytest.mark.parametrize("tutor_first", [True, False], ids=["tutor-first", "anonymous-first"])
    def test_the_shared_list_never_shows_a_draft_whoever_reads_first(self, course, tutor_first):
        draft = CourseFactory(title="Draft", is_published=False)
        tutor = client_for(draft.tutor)
        reads = [lambda: get(LIST, client=tutor), lambda: get(LIST)]
        for read in reads if tutor_first else reversed(reads):
            assert titles(read()) == ["Kept course"]
        assert titles(get(LIST, client=tutor, mine="true")) == ["Draft"]
        assert titles(get(LIST)) == ["Kept course"]

    @pytest.mark.parametrize("reader", ["tutor", "staff"])
    def test_a_draft_outline_read_by_those_who_may_is_not_kept(self, reader, staff):
        draft = CourseFactory(is_published=False)
        client = client_for(draft.tutor if reader == "tutor" else staff)
        assert get(outline_url(draft), client=client).status_code == 200
        assert kept() == 0
        assert_error_envelope(get(outline_url(draft)), 404, "not_found")

    def test_each_host_gets_the_links_of_its_own(self, course):
        CourseFactory()
        for host in ("localhost", "127.0.0.1", "localhost"):
            body = get(LIST, page_size=1, HTTP_HOST=host).json()
            assert body["next"] == f"http://{host}/api/courses/?page=2&page_size=1"
        assert kept() == 2

    def test_a_page_past_the_end_is_a_404_in_the_callers_language_and_not_kept(self, course):
        korean = assert_error_envelope(get(LIST, page=999, HTTP_ACCEPT_LANGUAGE="ko"), 404)
        english = assert_error_envelope(get(LIST, page=999, HTTP_ACCEPT_LANGUAGE="en"), 404)
        assert english["message"] == "Invalid page."
        assert HANGUL.search(korean["message"]), korean
        assert kept() == 0

    def test_a_page_size_that_is_not_a_number_is_the_default_page(self, course):
        assert titles(get(LIST, page_size="abc")) == titles(get(LIST)) == ["Kept course"]


# --- Cost and failure ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_kept_answer_runs_no_sql(url):
    cold = get(url)
    with CaptureQueriesContext(connection) as queries:
        warm_ = get(url)
    assert len(queries) == 0, [q["sql"] for q in queries]
    assert warm_.content == cold.content


@pytest.mark.django_db
def test_the_cache_out_of_reach_answers_from_the_database(course, settings, caplog):
    settings.CACHES = UNREACHABLE_CACHE
    for _ in range(2):
        assert titles(get(LIST)) == ["Kept course"]
        outline = get(outline_url(course))
        assert outline.status_code == 200
        assert [t["title"] for t in outline.json()["lectures"][0]["topics"]] == [
            "Welcome",
            "Setup",
        ]
        assert STRONG_ETAG.match(outline["ETag"])
    assert "catalogue cache unreachable" in caplog.text


@pytest.mark.django_db
def test_with_the_cache_turned_off_nothing_is_kept_but_etags_still_work(url, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    etag = get(url)["ETag"]
    assert STRONG_ETAG.match(etag)
    assert get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert kept("catalogue:*") == 0


@pytest.mark.django_db
def test_with_the_cache_turned_off_a_write_shows_at_once(course, settings):
    settings.CATALOGUE_CACHE_SECONDS = 0
    get(LIST)
    Course.objects.filter(pk=course.pk).update(title="Updated without a signal")
    assert titles(get(LIST)) == ["Updated without a signal"]

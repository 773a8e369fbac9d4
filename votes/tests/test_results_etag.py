"""Poll results answer with a strong ETag (core.conditional): 304 while nothing changed, a new ETag
after every vote, edit or tick of the clock that changes the body, and no 304 for whom the results
are hidden or for a poll that does not exist."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.testing import client_for
from core.testing import CommittingAPIClient, assert_error_envelope
from votes import results_cache
from votes.models import ResultsVisibility
from votes.tests.factories import CandidateFactory, PollFactory, closed_window, vote

STRONG_ETAG = re.compile(r'^"[0-9a-f]{32}"$')


def results(poll_id: int, client=None, etag: str | None = None):
    headers = {"If-None-Match": etag} if etag else {}
    return (client or CommittingAPIClient()).get(f"/api/polls/{poll_id}/results/", headers=headers)


@pytest.fixture
def poll(db):
    poll = PollFactory()
    CandidateFactory(poll=poll, name="Alpha")
    return poll


@pytest.mark.django_db
class TestResultsETag:
    def test_results_carry_a_strong_etag_and_must_be_revalidated(self, poll):
        response = results(poll.pk)
        assert response.status_code == 200
        assert STRONG_ETAG.match(response["ETag"]), response["ETag"]
        assert response["Cache-Control"] == "no-cache"

    @pytest.mark.parametrize("form", ["{etag}", "W/{etag}", '"x", {etag}', "*"])
    def test_a_matching_if_none_match_is_304_with_no_body(self, poll, form):
        etag = results(poll.pk)["ETag"]
        response = results(poll.pk, etag=form.format(etag=etag))
        assert (response.status_code, response.content) == (304, b"")
        assert response["ETag"] == etag

    def test_a_vote_changes_the_etag_and_the_old_one_gets_the_new_counts(self, poll, user):
        before = results(poll.pk)["ETag"]
        assert vote(client_for(user), poll, poll.candidates.get()).status_code == 201
        response = results(poll.pk, etag=before)
        assert response.status_code == 200
        assert response["ETag"] != before
        assert response.json()["total_votes"] == 1
        assert results(poll.pk, etag=response["ETag"]).status_code == 304

    def test_staff_closing_the_poll_changes_the_state_and_the_etag(
        self, poll, django_capture_on_commit_callbacks
    ):
        before = results(poll.pk)["ETag"]
        with django_capture_on_commit_callbacks(execute=True):
            for field, value in closed_window().items():
                setattr(poll, field, value)
            poll.save()
        response = results(poll.pk, etag=before)
        assert response.status_code == 200
        assert response.json()["poll"]["state"] == "closed"
        assert response["ETag"] != before

    def test_the_close_passing_with_no_write_changes_the_state_and_the_etag(
        self, poll, monkeypatch
    ):
        before = results(poll.pk)
        assert before.json()["poll"]["state"] == "open"
        after_close = poll.closes_at + timedelta(seconds=1)
        monkeypatch.setattr(results_cache, "timezone", SimpleNamespace(now=lambda: after_close))
        response = results(poll.pk, etag=before["ETag"])
        assert response.status_code == 200
        assert response.json()["poll"]["state"] == "closed"
        assert response["ETag"] != before["ETag"]

    @pytest.mark.parametrize("who", ["anonymous", "member"])
    @pytest.mark.parametrize("form", ["{etag}", "*"])
    def test_hidden_results_are_403_even_with_the_staffs_etag(self, staff_client, user, who, form):
        poll = PollFactory(
            results_visibility=ResultsVisibility.AFTER_CLOSE,
            closes_at=timezone.now() + timedelta(days=1),
        )
        staff_etag = results(poll.pk, client=staff_client)["ETag"]
        client = client_for(user) if who == "member" else CommittingAPIClient()
        response = results(poll.pk, client=client, etag=form.format(etag=staff_etag))
        assert_error_envelope(response, 403, "results_hidden")
        assert "ETag" not in response

    def test_star_on_a_poll_that_does_not_exist_is_404(self, db):
        assert_error_envelope(results(987654, etag="*"), 404, "not_found")

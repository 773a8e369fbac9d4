"""Staff tools for polls: inline candidates, CSV results, a read-only audit of votes."""

import csv
import io

import pytest

from accounts.tests.factories import UserFactory
from votes import services
from votes.models import Vote
from votes.tests.factories import CandidateFactory, PollFactory


@pytest.fixture
def voted_poll():
    poll = PollFactory(title="Lunch")
    tacos, pizza = (CandidateFactory(poll=poll, name=name) for name in ("Tacos", "Pizza"))
    for candidate, voters in ((tacos, 1), (pizza, 2)):
        for _ in range(voters):
            services.vote_cast(
                voter=UserFactory(), poll_id=poll.pk, candidate_id=candidate.pk, ip="10.9.8.7"
            )
    return poll


@pytest.mark.django_db
def test_results_export_as_csv_ranked_by_votes(admin_client, voted_poll):
    response = admin_client.post(
        "/admin/votes/poll/", {"action": "export_results_csv", "_selected_action": [voted_poll.pk]}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["poll_id", "poll", "rank", "candidate_id", "candidate", "votes"]
    assert [(row[2], row[4], row[5]) for row in rows[1:]] == [
        ("1", "Pizza", "2"),
        ("2", "Tacos", "1"),
    ]


@pytest.mark.django_db
def test_poll_admin_lists_totals_and_edits_candidates_inline(admin_client, voted_poll):
    changelist = admin_client.get("/admin/votes/poll/", {"state": "open"})
    assert changelist.status_code == 200
    assert b"Lunch" in changelist.content
    change = admin_client.get(f"/admin/votes/poll/{voted_poll.pk}/change/")
    assert change.status_code == 200
    assert b"Tacos" in change.content


@pytest.mark.django_db
def test_votes_are_an_audit_trail_nobody_can_edit_or_delete(admin_client, voted_poll):
    vote = Vote.objects.first()
    listing = admin_client.get("/admin/votes/vote/")
    assert listing.status_code == 200
    assert b"10.9.8.7" in listing.content
    assert admin_client.get("/admin/votes/vote/add/").status_code == 403
    assert (
        admin_client.post(f"/admin/votes/vote/{vote.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    detail = admin_client.post(
        f"/admin/votes/vote/{vote.pk}/change/", {"candidate": vote.candidate_id}
    )
    assert detail.status_code == 403
    assert Vote.objects.count() == 3

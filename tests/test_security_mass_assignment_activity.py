"""Mass assignment, activity side: what learners send (cart items, orders, billing addresses,
payments, votes, candidacies, submissions, quiz attempts, watch events) with fields naming
another user, a state, a price, an amount, a grade, a score or an id: ignored or 400, and the
rows show the server's values. Order totals and line prices are in
payments/tests/test_tampering.py.
"""

import json

import pytest

from core.testing import assert_error_envelope
from courses.models import Course, QuizAttempt, Submission
from payments.models import BillingAddress, CartItem, Order, OrderStatus, Payment, PaymentStatus
from payments.tests.flows import order_for
from tests.security_cases import (
    assert_unchanged_except,
    db_rows,
    fill_ids,
)
from videos.models import VideoProgress
from votes.models import Candidate, Vote
from votes.tests.factories import CandidateFactory, PollFactory

pytestmark = pytest.mark.django_db


# --- Commerce ------------------------------------------------------------------------------------

ORDER_FIELDS = {
    "status-paid": {"status": "paid"},
    "paid-at": {"paid_at": "2030-01-01T00:00:00Z"},
    "user-the-victim": {"user": "{owner}"},
    "currency": {"currency": "USD"},
    "lines-with-a-price": {"lines": [{"course": "{other_course}", "price": 1}]},
    "id-of-the-victims-order": {"id": "{order}"},
}


@pytest.mark.parametrize("extra", ORDER_FIELDS.values(), ids=ORDER_FIELDS.keys())
def test_an_order_takes_owner_state_and_prices_from_the_server(world, extra):
    client = world.client("attacker")
    victims_orders = list(Order.objects.filter(user=world.owner).values())
    body = fill_ids(world, {"items": [{"course": "{other_course}"}], **extra})
    response = client.post("/api/orders/", body, format="json")
    assert response.status_code == 201, response.content
    order = Order.objects.get(pk=response.json()["id"])
    assert (order.user_id, order.status, order.currency, order.paid_at) == (
        world.attacker.pk,
        OrderStatus.PENDING,
        "KRW",
        None,
    )
    assert order.total == Course.objects.get(pk=world.ids["other_course"]).price
    assert order.pk != world.ids["order"]
    assert list(Order.objects.filter(user=world.owner).values()) == victims_orders


PAYMENT_FIELDS = {
    "amount": {"amount": 1},
    "status-paid": {"status": "paid"},
    "user-the-victim": {"user": "{owner}"},
    "transaction-id": {"transaction_id": "T-chosen-by-the-client"},
    "approved-at": {"approved_at": "2030-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("extra", PAYMENT_FIELDS.values(), ids=PAYMENT_FIELDS.keys())
def test_a_payment_takes_its_amount_and_state_from_the_order_not_the_body(world, extra):
    client = world.client("attacker")
    order = order_for(client, Course.objects.get(pk=world.ids["other_course"]))
    body = fill_ids(world, {"order": order["id"], "provider": "sandbox", **extra})
    response = client.post("/api/payments/", body, format="json")
    assert response.status_code == 201, response.content
    payment = Payment.objects.get(pk=response.json()["payment"]["id"])
    assert (payment.user_id, payment.amount, payment.status, payment.approved_at) == (
        world.attacker.pk,
        order["total"],
        PaymentStatus.PENDING,
        None,
    )
    assert payment.transaction_id != "T-chosen-by-the-client"


CART_FIELDS = {
    "user-the-victim": {"user": "{owner}"},
    "price": {"price": 1},
    "id-of-the-victims-item": {"id": "{item}"},
}


@pytest.mark.parametrize("extra", CART_FIELDS.values(), ids=CART_FIELDS.keys())
def test_a_cart_item_belongs_to_the_caller_and_costs_the_current_price(world, extra):
    client = world.client("attacker")
    before = db_rows()
    body = fill_ids(world, {"course": "{other_course}", **extra})
    response = client.post("/api/cart/items/", body, format="json")
    assert response.status_code == 201, response.content
    item = CartItem.objects.get(pk=response.json()["id"])
    assert item.user_id == world.attacker.pk
    assert item.pk != world.ids["item"]
    assert response.json()["price"] == Course.objects.get(pk=world.ids["other_course"]).price
    assert_unchanged_except(before, db_rows(), "CartItem")


ADDRESS_FIELDS = {
    "user-the-victim": {"user": "{owner}"},
    "id-of-the-victims-address": {"id": "{address}"},
    "created-at": {"created_at": "2000-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("extra", ADDRESS_FIELDS.values(), ids=ADDRESS_FIELDS.keys())
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_billing_address_stays_the_callers_whatever_user_or_id_the_body_names(
    world, method, extra
):
    client = world.client("attacker")
    own = client.post("/api/billing-addresses/", {"name": "Me", "line1": "Here"}, format="json")
    path = (
        "/api/billing-addresses/"
        if method == "POST"
        else f"/api/billing-addresses/{own.json()['id']}/"
    )
    before = db_rows()
    body = fill_ids(world, {"name": "Mallory", "line1": "Elsewhere", **extra})
    response = client.generic(method, path, json.dumps(body), "application/json")
    assert response.status_code in (200, 201), response.content
    address = BillingAddress.objects.get(pk=response.json()["id"])
    assert address.user_id == world.attacker.pk
    assert address.pk != world.ids["address"]
    assert address.created_at.year != 2000
    assert_unchanged_except(before, db_rows(), "BillingAddress")


# --- Votes ---------------------------------------------------------------------------------------

VOTE_FIELDS = {
    "voter-the-victim": {"voter": "{owner}"},
    "poll-another": {"poll": "{poll}"},
    "ip": {"ip": "203.0.113.9"},
    "cast-at": {"cast_at": "2000-01-01T00:00:00Z"},
}


@pytest.mark.parametrize("extra", VOTE_FIELDS.values(), ids=VOTE_FIELDS.keys())
def test_a_vote_is_cast_by_the_caller_in_the_poll_of_the_url(world, extra):
    poll = PollFactory()
    candidate = CandidateFactory(poll=poll)
    client = world.client("attacker")
    victims_votes = list(Vote.objects.filter(voter=world.owner).values())
    body = fill_ids(world, {"candidate": candidate.pk, **extra})
    response = client.post(f"/api/polls/{poll.pk}/votes/", body, format="json")
    assert response.status_code == 201, response.content
    vote = Vote.objects.get(poll=poll)
    assert (vote.voter_id, vote.candidate_id) == (world.attacker.pk, candidate.pk)
    assert vote.ip != "203.0.113.9"
    assert vote.cast_at.year != 2000
    assert list(Vote.objects.filter(voter=world.owner).values()) == victims_votes
    assert Candidate.objects.get(pk=candidate.pk).vote_count == 1


def test_a_candidate_starts_at_zero_votes_registered_by_the_caller(world):
    poll = PollFactory()
    client = world.client("attacker")
    body = fill_ids(
        world,
        {"name": "Me", "vote_count": 1000, "registered_by": "{owner}", "poll": "{poll}", "id": 1},
    )
    response = client.post(f"/api/polls/{poll.pk}/candidates/", body, format="json")
    assert response.status_code == 201, response.content
    candidate = Candidate.objects.get(pk=response.json()["id"])
    assert (candidate.poll_id, candidate.vote_count, candidate.registered_by_id) == (
        poll.pk,
        0,
        world.attacker.pk,
    )


# --- Learning: submissions, grades, quiz attempts, video progress ----------------------------

SUBMISSION_FIELDS = {
    "grade": {"grade": 100},
    "status-graded": {"status": "graded"},
    "feedback": {"feedback": "Perfect"},
    "graded-by-the-tutor": {"graded_by": "{tutor}"},
    "user-the-victim": {"user": "{owner}"},
}


@pytest.mark.parametrize("extra", SUBMISSION_FIELDS.values(), ids=SUBMISSION_FIELDS.keys())
def test_a_learner_cannot_grade_their_own_submission_through_its_body(world, extra):
    client = world.client("classmate")
    victims = list(Submission.objects.filter(user=world.owner).values())
    body = fill_ids(world, {"text": "My work", **extra})
    response = client.post(world.path("/api/topics/{assignment}/submissions/"), body, format="json")
    assert response.status_code == 201, response.content
    submission = Submission.objects.get(pk=response.json()["id"])
    assert (submission.user_id, submission.grade, submission.feedback, submission.graded_by_id) == (
        world.classmate.pk,
        None,
        "",
        None,
    )
    assert submission.status != "graded"
    assert list(Submission.objects.filter(user=world.owner).values()) == victims


def test_grading_ones_own_submission_is_403_and_changes_nothing(world):
    before = db_rows()
    response = world.client("owner").patch(
        world.path("/api/submissions/{submission}/"), {"grade": 100}, format="json"
    )
    assert_error_envelope(response, 403, "permission_denied")
    assert db_rows() == before


ATTEMPT_FIELDS = {
    "score": {"score": 100},
    "passed": {"passed": True},
    "correct-and-total": {"correct": 2, "total": 2},
    "number": {"number": 1},
    "user-the-victim": {"user": "{owner}"},
}


@pytest.mark.parametrize("extra", ATTEMPT_FIELDS.values(), ids=ATTEMPT_FIELDS.keys())
def test_a_quiz_attempt_is_scored_by_the_server(world, extra):
    client = world.client("classmate")
    wrong = {question: choice + 1 for question, choice in world.ids["answers"].items()}
    body = fill_ids(world, {"answers": wrong, **extra})
    response = client.post(world.path("/api/topics/{quiz}/quiz-attempts/"), body, format="json")
    assert response.status_code == 201, response.content
    attempt = QuizAttempt.objects.get(pk=response.json()["id"])
    assert (attempt.user_id, attempt.correct, attempt.passed, attempt.number) == (
        world.classmate.pk,
        0,
        False,
        1,
    )
    assert response.json()["score"] == 0


EVENT_FIELDS = {
    "user-the-victim": {"user": "{owner}"},
    "watched-seconds": {"watched_seconds": 9999},
    "completed": {"completed": True, "completed_at": "2030-01-01T00:00:00Z"},
    "video-another": {"video": 999_999},
}


@pytest.mark.parametrize("extra", EVENT_FIELDS.values(), ids=EVENT_FIELDS.keys())
def test_a_watch_event_counts_for_the_caller_and_only_what_was_watched(world, extra):
    client = world.client("classmate")
    victims = list(VideoProgress.objects.filter(user=world.owner).values())
    body = fill_ids(world, {"event_type": "progress", "position": 3, "from": 0, "to": 3, **extra})
    response = client.post(world.path("/api/videos/{video}/events/"), body, format="json")
    assert response.status_code == 201, response.content
    progress = VideoProgress.objects.get(user=world.classmate, video_id=world.ids["video"])
    assert progress.watched_seconds <= 3
    assert progress.completed_at is None
    assert list(VideoProgress.objects.filter(user=world.owner).values()) == victims

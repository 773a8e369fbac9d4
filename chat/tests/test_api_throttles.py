"""What puts something in front of other people is limited per user (chat.throttles): friend
requests (a request to every user id, or a send-and-cancel loop aimed at one person) and reports
(the staff's queue). Refused attempts write nothing and reach nobody's socket."""

import pytest

from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from chat.models import FriendRequest, MessageReport
from chat.tests.factories import direct_room, message_write
from core.testing import assert_error_envelope, throttle_rates

pytestmark = pytest.mark.django_db

REQUESTS = "/api/chat/friend-requests/"


def test_friend_requests_to_user_after_user_are_refused_past_the_rate(settings):
    throttle_rates(settings, friend_request="3/hour")
    spammer, targets = UserFactory(), UserFactory.create_batch(4)
    client = client_for(spammer)
    answers = [client.post(REQUESTS, {"user": target.pk}, "json") for target in targets]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert_error_envelope(answers[3], 429, "throttled")
    assert int(answers[3]["Retry-After"]) > 0
    assert not FriendRequest.objects.filter(to_user=targets[3]).exists()
    assert client.get(REQUESTS, {"direction": "outgoing"}).status_code == 200  # not counted


def test_a_send_and_cancel_loop_at_one_person_is_refused_past_the_rate(settings):
    throttle_rates(settings, friend_request="3/hour")
    spammer, victim = UserFactory(), UserFactory()
    client = client_for(spammer)
    sent = []
    for _ in range(3):
        answer = client.post(REQUESTS, {"user": victim.pk}, "json")
        assert answer.status_code == 201
        sent.append(answer.json()["id"])
        assert client.delete(f"{REQUESTS}{answer.json()['id']}/").status_code == 204
    assert_error_envelope(client.post(REQUESTS, {"user": victim.pk}, "json"), 429, "throttled")
    assert list(FriendRequest.objects.values_list("pk", flat=True).order_by("pk")) == sent
    # Another sender has a budget of their own.
    assert client_for(UserFactory()).post(REQUESTS, {"user": victim.pk}, "json").status_code == 201


def test_reports_past_the_rate_are_refused_and_filed_nowhere(settings):
    throttle_rates(settings, chat_report="2/hour")
    reporter, author = UserFactory(), UserFactory()
    room = direct_room(reporter, author)
    messages = [message_write(room, author, f"m{number}") for number in range(3)]
    client = client_for(reporter)
    answers = [
        client.post(f"/api/chat/messages/{message.pk}/report/", {"reason": "spam"}, "json")
        for message in messages
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert_error_envelope(answers[2], 429, "throttled")
    assert MessageReport.objects.count() == 2

"""Numbers and ids that must not get far: 1e309 (parsed as infinity) in number fields, ids in
bodies that are not positive 64-bit integers (floats, text, booleans, 0, -1, 2**63, 10**30,
objects), fractional ids, and ids in URLs beyond any row: 400 naming the field, or 404 when the
id is well formed but names nothing; never a 500 and nothing written.
"""

import json

import pytest

from accounts.tests.factories import TeamFactory
from core.testing import assert_error_envelope
from tests.security_cases import (
    assert_body_refused,
    db_rows,
    send,
    send_to,
    valid_body,
)

pytestmark = pytest.mark.django_db


# --- Numbers: 1e309 (parsed as infinity), huge and ill-typed ids ---------------------------------

# endpoint -> where in its body a number sits (keys and list indexes).
NUMERIC_FIELDS = {
    "vote-cast": ["candidate"],
    "course-create": ["price"],
    "course-update": ["price"],
    "curriculum-create": ["course_ids", 0],
    "curriculum-update": ["price"],
    "grade": ["grade"],
    "video-event": ["position"],
    "cart-item-add": ["course"],
    "order-create": ["items", 0, "course"],
    "payment-start": ["order"],
}
ID_FIELDS = {
    "vote-cast": ["candidate"],
    "curriculum-create": ["course_ids", 0],
    "cart-item-add": ["course"],
    "order-create": ["items", 0, "course"],
    "order-billing-address": ["billing_address"],
    "payment-start": ["order"],
    "video-topic": ["topic"],
    "user-team": ["team"],
    "me-avatar": ["avatar"],
    "candidate-team": ["team"],
    "candidate-user": ["user"],
    "quiz-choice": ["answers", "{first_question}"],
}
# Where each id field is sent: an endpoint of the table.
ID_ENDPOINT = {
    "order-billing-address": "order-create",
    "video-topic": "video-update",
    "user-team": "user-membership",
    "me-avatar": "me-update",
    "candidate-team": "candidate-create",
    "candidate-user": "candidate-create",
    "quiz-choice": "quiz-attempt",
}


def _set(world, body, path: list, value):
    target = body
    for key in path[:-1]:
        target = target[key]
    last = path[-1]
    if last == "{first_question}":
        last = next(iter(world.ids["answers"]))
    target[last] = value
    return body


@pytest.mark.parametrize("endpoint", NUMERIC_FIELDS)
def test_1e309_in_a_number_field_is_400_naming_it(world, endpoint):
    """1e309 parses as float infinity: it must stop at validation, not reach the database."""
    marker = 7.25e-301  # a float that survives json.dumps, swapped for the raw literal
    body = json.dumps(_set(world, valid_body(world, endpoint), NUMERIC_FIELDS[endpoint], marker))
    body = body.replace(repr(marker), "1e309")
    error = assert_body_refused(world, endpoint, body, 400, "validation_error")
    assert error["fields"]


BAD_IDS = {
    "float": 1.5,
    "float-integral-huge": 1e20,
    "text": "abc",
    "empty-text": "",
    "digits-too-long-for-64-bits": "99999999999999999999",
    "true": True,
    "negative": -1,
    "zero": 0,
    "2-pow-63": 2**63,
    "10-pow-30": 10**30,
    "object": {"id": 1},
    "list": [1],
}
# "" means null for a nullable relation (DRF); the general poll ignores `user` once it is valid.
ACCEPTED = {("video-topic", "empty-text"), ("user-team", "empty-text")}
ACCEPTED |= {("candidate-user", "float")}


def _id_cases():
    for field in ID_FIELDS:
        for value in BAD_IDS:
            if (field, value) in ACCEPTED:
                continue
            yield pytest.param(field, value, id=f"{field}-{value}")


@pytest.mark.parametrize(("field", "value_name"), list(_id_cases()))
def test_an_id_that_is_not_a_positive_64_bit_integer_is_refused_naming_the_field(
    world, field, value_name
):
    """400 naming the field, or 404 when the id is well-formed but matches no object."""
    endpoint = ID_ENDPOINT.get(field, field)
    path = ID_FIELDS[field]
    body = _set(world, valid_body(world, endpoint), path, BAD_IDS[value_name])
    before = db_rows()
    response = send_to(world, endpoint, json.dumps(body))
    assert response.status_code in (400, 404), response.content[:300]
    error = assert_error_envelope(response, response.status_code)
    if response.status_code == 400:
        named = path[0]
        assert any(
            name == named or name.startswith((f"{named}.", f"{named}[")) for name in error["fields"]
        ), error
    assert db_rows() == before


FRACTIONAL = {
    "user-team": ("staff", "PATCH", "/api/users/{owner}/", "team"),
    "video-topic": ("tutor", "PATCH", "/api/videos/{video}/", "topic"),
}


@pytest.mark.parametrize("field", FRACTIONAL)
def test_a_fractional_id_is_not_rounded_to_a_real_object(world, field):
    actor, method, path, name = FRACTIONAL[field]
    real = TeamFactory().pk if name == "team" else world.ids["video_topic"]
    before = db_rows()
    response = send(world.client(actor), method, world.path(path), {name: real + 0.5})
    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == [name]
    assert db_rows() == before


DETAIL_URLS = {
    "course": ("GET", "/api/courses/{id}/"),
    "curriculum": ("GET", "/api/curriculums/{id}/"),
    "topic": ("GET", "/api/topics/{id}/"),
    "submission": ("PATCH", "/api/submissions/{id}/"),
    "video": ("GET", "/api/videos/{id}/"),
    "video-stream": ("GET", "/api/videos/{id}/stream/"),
    "image": ("DELETE", "/api/images/{id}/"),
    "poll": ("GET", "/api/polls/{id}/"),
    "poll-results": ("GET", "/api/polls/{id}/results/"),
    "cart-item": ("DELETE", "/api/cart/items/{id}/"),
    "order": ("GET", "/api/orders/{id}/"),
    "billing-address": ("GET", "/api/billing-addresses/{id}/"),
    "payment": ("GET", "/api/payments/{id}/"),
    "receipt": ("GET", "/api/receipts/{id}/"),
}
HUGE_IDS = {"0": 0, "2-pow-63-minus-1": 2**63 - 1, "2-pow-63": 2**63, "10-pow-30": 10**30}


@pytest.mark.parametrize("url", DETAIL_URLS)
@pytest.mark.parametrize("value", HUGE_IDS.values(), ids=HUGE_IDS.keys())
def test_an_id_in_the_url_out_of_any_row_range_is_404(world, url, value):
    method, template = DETAIL_URLS[url]
    before = db_rows()
    client = world.client("staff")
    response = send(client, method, template.format(id=value), {} if method == "PATCH" else None)
    assert_error_envelope(response, 404, "not_found")
    assert db_rows() == before

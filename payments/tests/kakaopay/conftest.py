"""The KakaoPay tests' scene: KakaoPay's API stubbed at the HTTP boundary, and a course at
`PRICE`."""

import pytest
import responses

from courses.tests.factories import CourseFactory
from payments.tests.kakaopay.stub import PRICE


@pytest.fixture
def kakaopay():
    """KakaoPay's API; a call to anything not stubbed is a refused connection."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def course(db):
    return CourseFactory(price=PRICE)

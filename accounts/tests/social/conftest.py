"""The stubbed provider endpoints of the social login tests."""

import pytest
import responses


@pytest.fixture
def http():
    """Every provider call must be stubbed, and every stub must be called."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock

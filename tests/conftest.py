"""The security battery's shared scene: built once per module, rolled back after it."""

import pytest

from tests.security_cases import kept_for_module, world_build


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with kept_for_module(django_db_blocker, world_build) as world:
        yield world

"""Fixtures of the courses tests."""

import pytest

from courses.models import TopicType
from courses.tests.factories import TopicFactory
from courses.tests.helpers import enrol, submission_storage


@pytest.fixture
def files_in_tmp(settings, tmp_path, monkeypatch):
    """Public media and assignment files (the protected storage, outside MEDIA_ROOT) in a fresh
    root per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    for attribute in ("base_location", "location"):
        monkeypatch.setattr(submission_storage(), attribute, str(tmp_path / "protected"))


@pytest.fixture
def assignment(user):
    """An assignment the `user` fixture is enrolled in."""
    topic = TopicFactory(type=TopicType.ASSIGNMENT, body="Write a report.")
    enrol(user, topic)
    return topic

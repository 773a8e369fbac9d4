"""The scene every bad-input test starts from."""

import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from accounts.testing import client_for
from accounts.tests.bad_input.cases import ENDPOINTS, VALID_BODIES
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import no_crash_client


@pytest.fixture
def scene(db):
    """A logged-in student, an anonymous client and a valid password-reset link."""
    user = UserFactory(username="alice", email="alice@example.com")
    auth = no_crash_client(client_for(user))
    user.refresh_from_db()  # the login set last_login, which the reset token is bound to
    scene = SimpleNamespace(
        user=user,
        pair=auth.token_pair,
        auth=auth,
        anon=no_crash_client(APIClient()),
        uid=urlsafe_base64_encode(force_bytes(user.pk)),
        reset_token=default_token_generator.make_token(user),
    )

    def send(endpoint: str, body, content_type: str = "application/json", **extra):
        method, url, needs_login = ENDPOINTS[endpoint]
        client = scene.auth if needs_login else scene.anon
        return client.generic(method, url, body, content_type=content_type, **extra)

    scene.send = send
    scene.send_json = lambda endpoint, data, **extra: send(endpoint, json.dumps(data), **extra)
    scene.valid_body = lambda endpoint: VALID_BODIES[endpoint](scene)
    return scene

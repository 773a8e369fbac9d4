"""Responses that carry tokens or personal data are never stored by a browser or a proxy."""

import pytest

from accounts.testing import client_for
from accounts.tests.factories import DEFAULT_PASSWORD


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/auth/login/"),
        ("post", "/api/auth/token/refresh/"),
        ("post", "/api/auth/register/"),
        ("get", "/api/users/me/"),
        ("get", "/api/auth/sessions/"),
    ],
)
def test_responses_that_carry_tokens_or_the_profile_are_never_stored(method, path, user):
    client = client_for(user)
    body = {
        "/api/auth/login/": {"login": user.email, "password": DEFAULT_PASSWORD},
        "/api/auth/token/refresh/": {"refresh": client.token_pair.refresh},
        "/api/auth/register/": {"email": "x@example.com"},  # a 400 is not stored either
    }.get(path)
    response = getattr(client, method)(path, body, format="json")
    assert "no-store" in response["Cache-Control"], (response.status_code, path)
    assert "private" in response["Cache-Control"]

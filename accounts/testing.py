"""Test helpers for every app's tests that need a signed-in user."""

from rest_framework.test import APIClient

from accounts.auth.services import ClientInfo, auth_session_start
from core.testing import CommittingAPIClient


def client_for(user) -> APIClient:
    """An API client holding a fresh session's access token for `user`."""
    _session, pair = auth_session_start(user=user, client=ClientInfo(user_agent="pytest"))
    client = CommittingAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access}")
    client.token_pair = pair
    return client

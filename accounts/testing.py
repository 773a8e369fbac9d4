"""Test helpers for every app's tests that need a signed-in user."""

from accounts.auth.services import ClientInfo, auth_session_start
from accounts.auth.tokens import TokenPair
from accounts.models import CustomUser
from core.testing import CommittingAPIClient


class SignedInClient(CommittingAPIClient):
    """Sends the access token of `token_pair`, which it keeps for tests that need the tokens."""

    def __init__(self, token_pair: TokenPair) -> None:
        super().__init__()
        self.token_pair = token_pair
        self.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair.access}")


def client_for(user: CustomUser) -> SignedInClient:
    """An API client holding a fresh session's access token for `user`."""
    _session, pair = auth_session_start(user=user, client=ClientInfo(user_agent="pytest"))
    return SignedInClient(pair)

"""Forged, misused and dead JWTs against endpoints of every app: 401 in the envelope, never a 500,
never the victim's data, and nothing written.

accounts/tests/test_forged_tokens.py already runs its forgeries against /api/users/me/, refresh,
logout and verify; here the table grows (algorithm confusion with RS256/HS512 headers, a flipped
payload or header byte, `kid`/`jku` headers, an attacker's RSA key) and every forgery is also
tried on write endpoints of other apps, where a bug would create rows in someone's name.
"""

import base64
import functools
import hashlib
import hmac
import json
import time
import uuid
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from accounts.models import AuthSession
from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from core.testing import CommittingAPIClient, assert_error_envelope
from payments.models import BillingAddress
from tests.security_cases import SECRET, db_rows, no_crash, send
from votes.models import Vote
from votes.tests.factories import CandidateFactory, PollFactory

pytestmark = [
    pytest.mark.django_db,
    # Weak keys are what some of the forgeries are about.
    pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
]

OTHER_KEY = "an-attackers-signing-key-that-is-long-enough-0123456789"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key() -> str:
    return settings.SIMPLE_JWT["SIGNING_KEY"]


def _sign(claims: dict, key=None, algorithm: str = "HS256", headers: dict | None = None) -> str:
    return jwt.encode(claims, key or _key(), algorithm=algorithm, headers=headers)


def _hmac_under_header(claims: dict, header: dict) -> str:
    """An HS256 MAC made with our real key, under a header that names another algorithm: the
    classic algorithm-confusion forgery (a verifier trusting `alg` would accept it)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(_key().encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _flip(token: str, part: int) -> str:
    """One bit flipped in the middle of the token's header (0), payload (1) or signature (2)."""
    parts = token.split(".")
    raw = bytearray(_unb64(parts[part]))
    raw[len(raw) // 2] ^= 0x01
    parts[part] = _b64(bytes(raw))
    return ".".join(parts)


def _payload_swapped(claims: dict) -> str:
    """A real signature over our claims, with the payload replaced by one naming user 1."""
    header, _payload, signature = _sign(claims).split(".")
    return f"{header}.{_b64(json.dumps({**claims, 'user_id': 1}).encode())}.{signature}"


def _without(claims: dict, name: str) -> dict:
    return {key: value for key, value in claims.items() if key != name}


@functools.cache
def _attackers_rsa_pem() -> bytes:
    """Made on first use: RSA key generation is slow enough to show at collection."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# Each takes the claims of the victim's real access token and returns a token to refuse.
# `True`: not in accounts/tests/test_forged_tokens.py, so also tried on /api/users/me/.
FORGERIES = {
    "alg-none-unsigned": (lambda c: jwt.encode(c, "", algorithm="none"), False),  # "": no key
    "alg-none-lowercase-keeping-real-signature": (
        lambda c: _hmac_under_header(c, {"alg": "none", "typ": "JWT"}),
        True,
    ),
    "hs256-with-another-key": (lambda c: _sign(c, key=OTHER_KEY), False),
    "hs256-with-a-guessable-key": (lambda c: _sign(c, key="secret"), True),
    "hs256-with-djangos-secret-key": (lambda c: _sign(c, key=settings.SECRET_KEY), True),
    "hs512-with-the-real-key": (lambda c: _sign(c, algorithm="HS512"), True),
    "rs256-header-over-an-hmac-with-the-real-key": (
        lambda c: _hmac_under_header(c, {"alg": "RS256", "typ": "JWT"}),
        True,
    ),
    "rs256-signed-with-an-attackers-rsa-key": (
        lambda c: _sign(c, key=_attackers_rsa_pem(), algorithm="RS256"),
        True,
    ),
    "kid-path-traversal-header": (
        lambda c: _sign(c, key=OTHER_KEY, headers={"kid": "../../../../dev/null"}),
        True,
    ),
    "jku-pointing-at-an-attackers-keys": (
        lambda c: _sign(c, key=OTHER_KEY, headers={"jku": "https://evil.example/jwks.json"}),
        True,
    ),
    "flipped-header-byte": (lambda c: _flip(_sign(c), 0), True),
    "flipped-payload-byte": (lambda c: _flip(_sign(c), 1), True),
    "payload-swapped-under-a-real-signature": (_payload_swapped, True),
    "flipped-signature-byte": (lambda c: _flip(_sign(c), 2), False),
    "signature-stripped": (lambda c: _sign(c).rsplit(".", 1)[0] + ".", False),
    "wrong-aud": (lambda c: _sign({**c, "aud": "someone-else"}), False),
    "wrong-iss": (lambda c: _sign({**c, "iss": "evil-issuer"}), False),
    "missing-aud": (lambda c: _sign(_without(c, "aud")), False),
    "aud-list-without-ours": (lambda c: _sign({**c, "aud": ["a", "b"]}), True),
    "missing-exp": (lambda c: _sign(_without(c, "exp")), False),
    "expired": (lambda c: _sign({**c, "exp": int(time.time()) - 1}), False),
    "exp-as-text": (lambda c: _sign({**c, "exp": "tomorrow"}), True),
    "nbf-in-the-future": (lambda c: _sign({**c, "nbf": int(time.time()) + 3600}), False),
    "token-type-refresh": (lambda c: _sign({**c, "token_type": "refresh"}), True),
    "token-type-missing": (lambda c: _sign(_without(c, "token_type")), True),
    "user-id-of-another-user-signed-by-us": (
        lambda c: _sign({**c, "user_id": c["user_id"] + 1}),
        True,
    ),
    "user-id-as-float": (lambda c: _sign({**c, "user_id": float(c["user_id"])}), True),
    "user-id-2-pow-63": (lambda c: _sign({**c, "user_id": 2**63}), True),
    "sid-of-nobody": (lambda c: _sign({**c, "sid": str(uuid.uuid4())}), False),
}
# The code when it is not "token_not_valid": well signed, the session lookup finds nothing.
CODES = {
    "user-id-of-another-user-signed-by-us": ("session_revoked",),
    "sid-of-nobody": ("session_revoked",),
    "user-id-2-pow-63": ("token_not_valid", "session_revoked"),
    "expired": ("token_expired",),  # well signed: only then may a client refresh
}


NEW_FORGERIES = [name for name, (_forge, new) in FORGERIES.items() if new]
ALL_FORGERIES = list(FORGERIES)
# Changes nothing to a refresh token, which already says "refresh".
REFRESH_FORGERIES = [name for name in NEW_FORGERIES if name != "token-type-refresh"]

GARBAGE = {
    "not-base64": "@@@.###.$$$",
    "three-dots": "...",
    "three-dots-around-words": "a.b.c.",
    "non-ascii": "héllo.wörld.x",
    "huge-100kb": "x" * 100_000,
    "huge-100kb-well-formed": None,  # built from the victim's claims, see below
    "json-instead-of-jwt": '{"user_id":1}',
}


@pytest.fixture
def victim(db):
    """A logged-in user, their real tokens, and a poll they may vote in."""
    user = UserFactory(name=f"Victim {SECRET}")
    client = client_for(user)
    poll = PollFactory()
    return SimpleNamespace(
        user=user,
        pair=client.token_pair,
        claims=jwt.decode(client.token_pair.access, options={"verify_signature": False}),
        poll=poll,
        candidate=CandidateFactory(poll=poll),
    )


# Authenticated endpoints of several apps; the writes would create or change rows if accepted.
ENDPOINTS = {
    "me-read": ("GET", "/api/users/me/", None),
    "me-update": ("PATCH", "/api/users/me/", {"name": "Hijacked"}),
    "billing-address-create": ("POST", "/api/billing-addresses/", {"name": "M", "line1": "x"}),
    "vote-cast": ("POST", "/api/polls/{poll}/votes/", {"candidate": "{candidate}"}),
}
WRITE_ENDPOINTS = ["me-update", "billing-address-create", "vote-cast"]
# One write endpoint outside accounts takes the whole table; the others see the classics.
WRITE_FOR_EVERY_FORGERY = "billing-address-create"


def _request(victim, endpoint: str, authorization: str | None):
    method, path, body = ENDPOINTS[endpoint]
    path = path.format(poll=victim.poll.pk)
    if body is not None:
        body = {
            key: victim.candidate.pk if value == "{candidate}" else value
            for key, value in body.items()
        }
    client = no_crash(CommittingAPIClient())
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return send(client, method, path, body)


def _assert_refused(response, codes=("token_not_valid",)) -> None:
    error = assert_error_envelope(response, 401)
    assert error["code"] in codes, error
    assert error["fields"] == {}
    assert SECRET.encode() not in response.content
    assert response["WWW-Authenticate"].startswith("Bearer")


def _assert_victim_unharmed(victim) -> None:
    victim.user.refresh_from_db()
    assert victim.user.name == f"Victim {SECRET}"
    assert not BillingAddress.objects.exists()
    assert not Vote.objects.exists()
    assert AuthSession.objects.get(user=victim.user).revoked_at is None


@pytest.mark.parametrize("forgery", ALL_FORGERIES)
def test_forged_access_token_on_a_write_endpoint_is_401_and_writes_nothing(victim, forgery):
    endpoint = WRITE_FOR_EVERY_FORGERY
    forge, _new = FORGERIES[forgery]
    token = forge(victim.claims)
    before = db_rows()
    _assert_refused(
        _request(victim, endpoint, f"Bearer {token}"), CODES.get(forgery, ("token_not_valid",))
    )
    assert db_rows() == before
    _assert_victim_unharmed(victim)


@pytest.mark.parametrize("endpoint", ["me-read"])
@pytest.mark.parametrize("forgery", NEW_FORGERIES)
def test_new_forgeries_on_read_endpoints_are_401_and_show_nothing(victim, endpoint, forgery):
    forge, _new = FORGERIES[forgery]
    _assert_refused(
        _request(victim, endpoint, f"Bearer {forge(victim.claims)}"),
        CODES.get(forgery, ("token_not_valid",)),
    )


@pytest.mark.parametrize("url", ["/api/auth/token/refresh/"])
@pytest.mark.parametrize("forgery", REFRESH_FORGERIES)
def test_new_forgeries_of_the_refresh_token_are_401_and_rotate_nothing(victim, url, forgery):
    forge, _new = FORGERIES[forgery]
    claims = jwt.decode(victim.pair.refresh, options={"verify_signature": False})
    token = forge(claims)
    client = no_crash(CommittingAPIClient())
    key = "refresh" if url.endswith("refresh/") else "token"
    before = db_rows()
    error = assert_error_envelope(client.post(url, {key: token}, format="json"), 401)
    assert error["code"] == "token_not_valid"
    assert db_rows() == before


@pytest.mark.parametrize("endpoint", WRITE_ENDPOINTS)
def test_refresh_token_used_as_access_token_is_401_on_writes(victim, endpoint):
    before = db_rows()
    _assert_refused(_request(victim, endpoint, f"Bearer {victim.pair.refresh}"))
    assert db_rows() == before
    _assert_victim_unharmed(victim)


def test_access_token_used_as_refresh_token_is_401_and_the_session_keeps_its_refresh(victim):
    session = AuthSession.objects.get(user=victim.user)
    client = no_crash(CommittingAPIClient())
    response = client.post("/api/auth/token/refresh/", {"refresh": victim.pair.access})
    assert_error_envelope(response, 401, "token_not_valid")
    session.refresh_from_db()
    assert session.revoked_at is None
    assert (
        client.post("/api/auth/token/refresh/", {"refresh": victim.pair.refresh}).status_code == 200
    )


@pytest.mark.parametrize("endpoint", ["me-read", WRITE_FOR_EVERY_FORGERY])
@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_bearer_token_is_401_everywhere(victim, endpoint, garbage):
    token = GARBAGE[garbage]
    if token is None:
        token = _sign({**victim.claims, "padding": "p" * 100_000}, key=OTHER_KEY)
    before = db_rows()
    _assert_refused(_request(victim, endpoint, f"Bearer {token}".encode().decode("latin-1")))
    assert db_rows() == before


def _logged_out(victim) -> None:
    client = CommittingAPIClient()
    assert client.post("/api/auth/logout/", {"refresh": victim.pair.refresh}).status_code == 204


def _deactivated(victim) -> None:
    client = CommittingAPIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {victim.pair.access}")
    assert client.delete("/api/users/me/").status_code == 204


def _deactivated_by_staff(victim) -> None:
    victim.user.is_active = False
    victim.user.save(update_fields=["is_active"])


def _deleted(victim) -> None:
    AuthSession.objects.filter(user=victim.user).delete()
    victim.user.delete()


ENDED = {
    "logged-out": (_logged_out, "session_revoked"),
    "deactivated-through-the-api": (_deactivated, "session_revoked"),
    "deactivated-by-staff": (_deactivated_by_staff, "user_inactive"),
    "deleted": (_deleted, "user_not_found"),
}


@pytest.mark.parametrize("endpoint", ["billing-address-create", "vote-cast"])
@pytest.mark.parametrize("ending", ENDED)
def test_access_token_of_an_ended_login_on_a_write_endpoint_is_401_and_writes_nothing(
    victim, endpoint, ending, django_capture_on_commit_callbacks
):
    end, code = ENDED[ending]
    warm = _request(victim, "me-read", f"Bearer {victim.pair.access}")
    assert warm.status_code == 200  # the session is cached as live before it ends
    with django_capture_on_commit_callbacks(execute=True):
        end(victim)
    before = db_rows()
    _assert_refused(_request(victim, endpoint, f"Bearer {victim.pair.access}"), (code,))
    assert db_rows() == before
    assert not BillingAddress.objects.exists()
    assert not Vote.objects.exists()


# --- The Authorization header itself ------------------------------------------------------------

ACCEPTED_HEADERS = {
    "bearer": "Bearer {token}",
    "jwt-prefix": "JWT {token}",
    "lowercase-scheme": "bearer {token}",
    "two-spaces": "Bearer  {token}",  # RFC 9110 11.4: 1*SP between scheme and credentials
    "many-spaces": "Bearer      {token}",
    "tab": "Bearer\t{token}",
}
REFUSED_HEADERS = {
    "no-space": "Bearer{token}",
    "two-tokens": "Bearer {token} {token}",
    "comma-separated-credentials": "Bearer {token}, Bearer {token}",
    "scheme-twice": "Bearer Bearer {token}",
    "basic-scheme": "Basic {token}",
    "token-in-quotes": 'Bearer "{token}"',
}


@pytest.mark.parametrize("endpoint", ["me-read", "me-update"])
@pytest.mark.parametrize("template", ACCEPTED_HEADERS.values(), ids=ACCEPTED_HEADERS.keys())
def test_the_real_token_is_accepted_with_either_prefix_and_any_run_of_spaces(
    victim, endpoint, template
):
    response = _request(victim, endpoint, template.format(token=victim.pair.access))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == victim.user.pk


@pytest.mark.parametrize("endpoint", ["me-read", "billing-address-create"])
@pytest.mark.parametrize("template", REFUSED_HEADERS.values(), ids=REFUSED_HEADERS.keys())
def test_a_malformed_authorization_header_is_401_and_writes_nothing(victim, endpoint, template):
    before = db_rows()
    response = _request(victim, endpoint, template.format(token=victim.pair.access))
    error = assert_error_envelope(response, 401)
    assert error["code"] in ("bad_authorization_header", "not_authenticated", "token_not_valid")
    assert SECRET.encode() not in response.content
    assert db_rows() == before

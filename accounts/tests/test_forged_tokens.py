"""Forged, tampered, misused and dead tokens: always 401 in the envelope with a stable code, and
the real session they imitate keeps working.

Forgeries copy the claims of a real token (decoded without verification) and change one thing.
"""

import base64
import json
import time
import uuid
from types import SimpleNamespace

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import AuthSession
from accounts.testing import client_for
from accounts.tests.factories import UserFactory
from accounts.tests.helpers import db_state, no_crash_client
from core.testing import HANGUL, assert_error_envelope

OTHER_KEY = "another-signing-key-that-is-long-enough-0123456789"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(claims: dict, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


def _without(claims: dict, name: str) -> dict:
    return {key: value for key, value in claims.items() if key != name}


def _flip_signature_byte(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(raw))}"


def _alg_none_keeping_signature(claims: dict) -> str:
    header = _b64(json.dumps({"alg": "NONE", "typ": "JWT"}).encode())
    signature = _sign(claims).split(".")[2]
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


# Each takes the claims of a real token and returns a token that must be refused.
FORGERIES = {
    "alg-none": lambda c: jwt.encode(c, "", algorithm="none"),  # PyJWT: "" is no key
    "alg-none-uppercase-keeping-signature": _alg_none_keeping_signature,
    "signed-with-another-key": lambda c: _sign(c, key=OTHER_KEY),
    "hs384-with-the-real-key": lambda c: _sign(c, algorithm="HS384"),
    "one-flipped-signature-byte": lambda c: _flip_signature_byte(_sign(c)),
    "signature-stripped": lambda c: _sign(c).rsplit(".", 1)[0] + ".",
    "wrong-aud": lambda c: _sign({**c, "aud": "someone-else"}),
    "wrong-iss": lambda c: _sign({**c, "iss": "evil-issuer"}),
    "missing-aud": lambda c: _sign(_without(c, "aud")),
    "missing-iss": lambda c: _sign(_without(c, "iss")),
    "expired": lambda c: _sign({**c, "exp": int(time.time()) - 5}),
    "missing-exp": lambda c: _sign(_without(c, "exp")),
    "not-yet-valid": lambda c: _sign({**c, "nbf": int(time.time()) + 3600}),
    "missing-sid": lambda c: _sign(_without(c, "sid")),
    "missing-user-id": lambda c: _sign(_without(c, "user_id")),
    "unknown-sid": lambda c: _sign({**c, "sid": str(uuid.uuid4())}),
}
# The code /api/users/me/ answers with; every other forgery is "token_not_valid".
ME_CODES = {"unknown-sid": "session_revoked", "expired": "token_expired"}

GARBAGE = {
    "word": "abc",
    "three-dots": "a.b.c",
    "two-parts": "a.b",
    "four-parts": "a.b.c.d",
    "dots": "....",
    "header-only": "eyJhbGciOiJIUzI1NiJ9",
    "empty-payload": "eyJhbGciOiJIUzI1NiJ9.e30.",
    "json-null": "null",
    "sql": "' OR '1'='1",
    "hangul": "토큰",
    "huge": "x" * 100_000,
}


@pytest.fixture
def victim(db):
    """A logged-in user whose real tokens the forgeries imitate."""
    user = UserFactory()
    pair = client_for(user).token_pair
    return SimpleNamespace(
        user=user,
        pair=pair,
        session=AuthSession.objects.get(user=user),
        access_claims=jwt.decode(pair.access, options={"verify_signature": False}),
        refresh_claims=jwt.decode(pair.refresh, options={"verify_signature": False}),
    )


@pytest.fixture
def anon() -> APIClient:
    return no_crash_client(APIClient())


def _get_me(authorization: str):
    client = no_crash_client(APIClient())
    client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get("/api/users/me/")


def _assert_401_with_stable_code(send, code: str, *, authenticate_header: bool = False) -> None:
    """Sent twice (the second answer may come from the revocation cache): same 401, same code."""
    for _attempt in range(2):
        response = send()
        error = assert_error_envelope(response, 401, code)
        assert error["fields"] == {}
        if authenticate_header:
            assert response["WWW-Authenticate"].startswith("Bearer")


def _assert_session_still_works(victim) -> None:
    victim.session.refresh_from_db()
    assert victim.session.revoked_at is None
    assert victim.session.refresh_jti == victim.refresh_claims["jti"]
    assert _get_me(f"Bearer {victim.pair.access}").status_code == 200


# --- Authenticated endpoint: GET /api/users/me/ --------------------------------------------------


def test_real_access_token_is_accepted_with_bearer_and_with_jwt_prefix(victim):
    for prefix in ("Bearer", "JWT"):
        response = _get_me(f"{prefix} {victim.pair.access}")
        assert response.status_code == 200, response.content
        assert response.json()["id"] == victim.user.pk


@pytest.mark.parametrize("prefix", ["Bearer", "JWT"])
@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_access_token_on_me_is_401(victim, prefix, forgery):
    token = FORGERIES[forgery](victim.access_claims)
    before = db_state()
    _assert_401_with_stable_code(
        lambda: _get_me(f"{prefix} {token}"),
        ME_CODES.get(forgery, "token_not_valid"),
        authenticate_header=True,
    )
    assert db_state() == before
    _assert_session_still_works(victim)


@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_bearer_token_on_me_is_401(victim, token):
    # Header values travel as latin-1 text, so UTF-8 bytes arrive as their latin-1 reading.
    header = f"Bearer {token}".encode().decode("latin-1")
    code = "bad_authorization_header" if " " in token else "token_not_valid"
    _assert_401_with_stable_code(lambda: _get_me(header), code, authenticate_header=True)


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        ("", "not_authenticated"),
        ("   ", "not_authenticated"),
        ("Bearer", "bad_authorization_header"),
        ("Bearer ", "bad_authorization_header"),
        ("JWT", "bad_authorization_header"),
        ("Bearer one two", "bad_authorization_header"),
        ("Basic YWxpY2U6cGFzc3dvcmQ=", "not_authenticated"),
        ("Token abc", "not_authenticated"),
    ],
    ids=[
        "empty",
        "blank",
        "bearer-alone",
        "bearer-space",
        "jwt-alone",
        "three-parts",
        "basic",
        "token",
    ],
)
def test_malformed_authorization_header_on_me_is_401(victim, authorization, code):
    _assert_401_with_stable_code(lambda: _get_me(authorization), code, authenticate_header=True)


PROTECTED = [
    ("GET", "/api/users/me/"),
    ("PATCH", "/api/users/me/"),
    ("DELETE", "/api/users/me/"),
    ("GET", "/api/users/"),
    ("POST", "/api/auth/logout-all/"),
    ("GET", "/api/auth/sessions/"),
    ("POST", "/api/auth/password/change/"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
@pytest.mark.parametrize(
    ("authorization", "code"),
    [(None, "not_authenticated"), ("signed-with-another-key", "token_not_valid")],
    ids=["no-token", "forged-token"],
)
def test_every_protected_endpoint_refuses_a_missing_or_forged_token_and_writes_nothing(
    victim, method, url, authorization, code
):
    client = no_crash_client(APIClient())
    if authorization:
        token = FORGERIES[authorization](victim.access_claims)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = {"name": "Hijacked", "current_password": "x", "new_password": "Quartz-Lantern-42"}
    before = db_state()
    _assert_401_with_stable_code(
        lambda: client.generic(method, url, json.dumps(body), content_type="application/json"),
        code,
        authenticate_header=True,
    )
    assert db_state() == before
    _assert_session_still_works(victim)


def test_refresh_token_used_as_access_token_is_401_token_not_valid(victim):
    _assert_401_with_stable_code(
        lambda: _get_me(f"Bearer {victim.pair.refresh}"),
        "token_not_valid",
        authenticate_header=True,
    )
    _assert_session_still_works(victim)


def test_token_whose_user_id_names_another_user_is_401_session_revoked(victim):
    """A token is bound to its session: another user's id with this sid opens nothing."""
    other = UserFactory()
    token = _sign({**victim.access_claims, "user_id": other.pk})
    _assert_401_with_stable_code(lambda: _get_me(f"Bearer {token}"), "session_revoked")


@pytest.mark.parametrize("cache", ["warm", "cold"])
def test_a_live_session_with_another_users_id_opens_nothing(victim, cache):
    """With the signing key known, an attacker signs their own live `sid` with the victim's
    `user_id`: the session's cached verdict belongs to its user only, never to its id alone."""
    attacker = UserFactory()
    attacker_client = client_for(attacker)
    attacker_claims = jwt.decode(
        attacker_client.token_pair.access, options={"verify_signature": False}
    )
    if cache == "warm":  # the attacker's session is cached as live, as after any real request
        assert attacker_client.get("/api/users/me/").json()["id"] == attacker.pk
    forged = _sign({**attacker_claims, "user_id": victim.user.pk})

    _assert_401_with_stable_code(lambda: _get_me(f"Bearer {forged}"), "session_revoked")
    assert attacker_client.get("/api/users/me/").json()["id"] == attacker.pk
    _assert_session_still_works(victim)


# Each ends the victim's login after its access token was used (and cached as live), as a real
# client's would have been. on_commit callbacks run, as they do outside a test transaction.


def _logged_out(victim, anon) -> None:
    assert _get_me(f"Bearer {victim.pair.access}").status_code == 200
    assert anon.post("/api/auth/logout/", {"refresh": victim.pair.refresh}).status_code == 204


def _deactivated(victim, anon) -> None:
    client = no_crash_client(APIClient())
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {victim.pair.access}")
    assert client.get("/api/users/me/").status_code == 200
    assert client.delete("/api/users/me/").status_code == 204


def _deactivated_in_admin_form(victim, anon) -> None:
    """Unticking "active" on the admin change form saves the user and ends no session."""
    assert _get_me(f"Bearer {victim.pair.access}").status_code == 200
    victim.user.is_active = False
    victim.user.save(update_fields=["is_active"])


def _deleted(victim, anon) -> None:
    """A hard delete, as from the Django admin or a data-protection erasure."""
    assert _get_me(f"Bearer {victim.pair.access}").status_code == 200
    victim.user.delete()


# How a login ends, and the code /api/users/me/ then answers its access token with.
ENDED_LOGINS = {
    "logged-out": (_logged_out, "session_revoked"),
    "deactivated": (_deactivated, "session_revoked"),  # deactivation ends every session
    "deactivated-in-admin-form": (_deactivated_in_admin_form, "user_inactive"),
    "deleted-user": (_deleted, "user_not_found"),
}


@pytest.mark.parametrize("ending", ENDED_LOGINS)
def test_access_token_of_an_ended_login_on_me_is_401(
    victim, anon, ending, django_capture_on_commit_callbacks
):
    end_login, code = ENDED_LOGINS[ending]
    with django_capture_on_commit_callbacks(execute=True):
        end_login(victim, anon)
    _assert_401_with_stable_code(lambda: _get_me(f"Bearer {victim.pair.access}"), code)


def test_forged_token_message_is_korean_for_accept_language_ko_and_code_unchanged(victim):
    token = FORGERIES["signed-with-another-key"](victim.access_claims)
    client = no_crash_client(APIClient())
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get("/api/users/me/", HTTP_ACCEPT_LANGUAGE="ko")
    error = assert_error_envelope(response, 401, "token_not_valid")
    assert HANGUL.search(error["message"]), error["message"]


# --- POST /api/auth/token/refresh/ and /api/auth/logout/ ---------------------------------------

REFRESH_ENDPOINTS = ["/api/auth/token/refresh/", "/api/auth/logout/"]


@pytest.mark.parametrize("url", REFRESH_ENDPOINTS)
@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_refresh_token_is_401_and_leaves_the_real_session_alone(victim, anon, url, forgery):
    token = FORGERIES[forgery](victim.refresh_claims)
    before = db_state()
    _assert_401_with_stable_code(lambda: anon.post(url, {"refresh": token}), "token_not_valid")
    assert db_state() == before
    _assert_session_still_works(victim)
    response = anon.post("/api/auth/token/refresh/", {"refresh": victim.pair.refresh})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("url", REFRESH_ENDPOINTS)
@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_refresh_token_is_401_token_not_valid(victim, anon, url, token):
    before = db_state()
    _assert_401_with_stable_code(lambda: anon.post(url, {"refresh": token}), "token_not_valid")
    assert db_state() == before


@pytest.mark.parametrize("url", REFRESH_ENDPOINTS)
def test_access_token_used_as_refresh_token_is_401_and_rotates_nothing(victim, anon, url):
    before = db_state()
    _assert_401_with_stable_code(
        lambda: anon.post(url, {"refresh": victim.pair.access}), "token_not_valid"
    )
    assert db_state() == before
    _assert_session_still_works(victim)


@pytest.mark.parametrize("url", REFRESH_ENDPOINTS)
def test_refresh_token_of_a_deleted_user_is_401_token_not_valid(victim, anon, url):
    victim.user.delete()
    _assert_401_with_stable_code(
        lambda: anon.post(url, {"refresh": victim.pair.refresh}), "token_not_valid"
    )


# --- POST /api/auth/token/verify/ --------------------------------------------------------------


def test_verify_accepts_the_real_access_and_refresh_tokens(victim, anon):
    for token in (victim.pair.access, victim.pair.refresh):
        response = anon.post("/api/auth/token/verify/", {"token": token})
        assert response.status_code == 200, response.content
        assert response.json() == {}


@pytest.mark.parametrize("kind", ["access", "refresh"])
@pytest.mark.parametrize("forgery", FORGERIES)
def test_forged_token_on_verify_is_401_token_not_valid(victim, anon, kind, forgery):
    token = FORGERIES[forgery](getattr(victim, f"{kind}_claims"))
    before = db_state()
    code = "token_expired" if (kind, forgery) == ("access", "expired") else "token_not_valid"
    _assert_401_with_stable_code(
        lambda: anon.post("/api/auth/token/verify/", {"token": token}), code
    )
    assert db_state() == before


@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_token_on_verify_is_401_token_not_valid(victim, anon, token):
    _assert_401_with_stable_code(
        lambda: anon.post("/api/auth/token/verify/", {"token": token}), "token_not_valid"
    )


@pytest.mark.parametrize("kind", ["access", "refresh"])
@pytest.mark.parametrize("ending", ENDED_LOGINS)
def test_token_of_an_ended_login_on_verify_is_401_token_not_valid(
    victim, anon, kind, ending, django_capture_on_commit_callbacks
):
    end_login, _me_code = ENDED_LOGINS[ending]
    with django_capture_on_commit_callbacks(execute=True):
        end_login(victim, anon)
    token = getattr(victim.pair, kind)
    _assert_401_with_stable_code(
        lambda: anon.post("/api/auth/token/verify/", {"token": token}), "token_not_valid"
    )


# --- Well signed, malformed claims (only the key holder could mint these) ---------------------

MALFORMED_CLAIMS = {
    "user-id-text": {"user_id": "abc"},
    "sid-not-a-uuid": {"sid": "not-a-uuid"},
}


@pytest.mark.parametrize("claims", MALFORMED_CLAIMS.values(), ids=MALFORMED_CLAIMS.keys())
@pytest.mark.parametrize(
    ("kind", "send"),
    [
        ("access", lambda token, anon: _get_me(f"Bearer {token}")),
        ("access", lambda token, anon: anon.post("/api/auth/token/verify/", {"token": token})),
        ("refresh", lambda token, anon: anon.post("/api/auth/token/refresh/", {"refresh": token})),
        ("refresh", lambda token, anon: anon.post("/api/auth/logout/", {"refresh": token})),
    ],
    ids=["me", "verify", "refresh", "logout"],
)
def test_well_signed_token_with_malformed_claims_is_401_never_400_or_500(
    victim, anon, claims, kind, send
):
    token = _sign({**getattr(victim, f"{kind}_claims"), **claims})
    before = db_state()
    _assert_401_with_stable_code(lambda: send(token, anon), "token_not_valid")
    assert db_state() == before


# --- Expiry has its own code: the only 401 after which a client should refresh ------------------


def test_an_expired_access_token_is_401_token_expired_with_a_bearer_challenge(victim):
    expired = _sign({**victim.access_claims, "exp": int(time.time()) - 1})
    _assert_401_with_stable_code(
        lambda: _get_me(f"Bearer {expired}"), "token_expired", authenticate_header=True
    )


@pytest.mark.parametrize(
    "token",
    [
        lambda c: _sign({**c, "exp": int(time.time()) - 1}, key=OTHER_KEY),
        lambda c: _flip_signature_byte(_sign({**c, "exp": int(time.time()) - 1})),
        lambda c: "abc",
    ],
    ids=["expired-but-signed-with-another-key", "expired-with-a-bad-signature", "garbage"],
)
def test_only_a_genuine_token_can_be_called_expired(victim, token):
    """Expiry is judged after the signature: a forgery never learns it is "only expired"."""
    forged = token(victim.access_claims)
    _assert_401_with_stable_code(lambda: _get_me(f"Bearer {forged}"), "token_not_valid")


def test_verify_says_an_expired_access_token_has_expired(victim, anon):
    expired = _sign({**victim.access_claims, "exp": int(time.time()) - 1})
    response = anon.post("/api/auth/token/verify/", {"token": expired}, format="json")
    assert_error_envelope(response, 401, "token_expired")


def test_an_expired_refresh_token_is_token_not_valid_a_new_login_is_needed(victim, anon):
    expired = _sign({**victim.refresh_claims, "exp": int(time.time()) - 1})
    response = anon.post("/api/auth/token/refresh/", {"refresh": expired}, format="json")
    assert_error_envelope(response, 401, "token_not_valid")

"""Asked in Korean, every error message is Korean: no half-English strings from the libraries'
catalogues ("이 필드는 blank일 수 없습니다"). Identifiers the client sent or must send (field
names, quoted input, type and format names) may stay as they are."""

import re
import time

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, UserFactory

# Acronyms and protocol words Korean text uses as they are.
KEPT = {"API", "URL", "UUID", "JSON", "IPv4", "IPv6", "ID", "Accept", "Range", "PNG", "JPEG"}
KEPT |= {"WebP", "MP4", "WebM", "MOV", "KRW", "HTTP", "HTTPS", "PDF", "ZIP"}
TYPE_NAMES = {"list", "str", "int", "bool", "float", "dict", "NoneType"}


def english_words(message: str) -> list[str]:
    message = re.sub(r'"[^"]*"', "", message)  # quoted input
    message = re.sub(r": [^가-힣]*$", "", message)  # a trailing format or list of values
    words = re.findall(r"[A-Za-z][A-Za-z0-9_]{2,}", message)
    return [w for w in words if w not in KEPT | TYPE_NAMES and "_" not in w]


def messages_of(response) -> list[str]:
    error = response.json()["error"]
    found = [error["message"]]
    for value in error["fields"].values():
        found += value if isinstance(value, list) else [str(value)]
    return found


@pytest.fixture
def clients(db):
    user = client_for(UserFactory())
    return {"anon": APIClient(), "user": user, "staff": client_for(StaffFactory())}


def expired_access(client) -> str:
    claims = jwt.decode(client.token_pair.access, options={"verify_signature": False})
    return jwt.encode(
        {**claims, "exp": int(time.time()) - 5}, settings.SIMPLE_JWT["SIGNING_KEY"], "HS256"
    )


BAD_REQUESTS = {
    "blank-and-null": ("anon", "post", "/api/auth/register/", {"email": "", "username": None}),
    "bad-register": (
        "anon",
        "post",
        "/api/auth/register/",
        {"email": "bad", "username": "a b", "password": "short", "password_confirm": "x"},
    ),
    "empty-login": ("anon", "post", "/api/auth/login/", {"login": "", "password": None}),
    "wrong-login": ("anon", "post", "/api/auth/login/", {"login": "x@y.z", "password": "wrong-1"}),
    "no-credentials": ("anon", "get", "/api/users/me/", None),
    "garbage-refresh": ("anon", "post", "/api/auth/token/refresh/", {"refresh": "abc"}),
    "bad-poll": (
        "staff",
        "post",
        "/api/polls/",
        {"kind": "nope", "title": "", "opens_at": "yesterday", "closes_at": 5},
    ),
    "poll-dates": (
        "staff",
        "post",
        "/api/polls/",
        {"kind": "general", "title": "T", "opens_at": "2026-01-01", "closes_at": "2020-01-01"},
    ),
    "not-an-object": ("staff", "post", "/api/polls/", [1, 2]),
    "bad-vote": ("user", "post", "/api/polls/999/votes/", {"candidate": "x"}),
    "null-cart-item": ("user", "post", "/api/cart/items/", {"course": None}),
    "bad-address": ("user", "post", "/api/billing-addresses/", {"name": "", "line1": None}),
    "bad-profile": ("user", "patch", "/api/users/me/", {"username": "", "phone": "abc"}),
    "bad-reset": ("anon", "post", "/api/auth/password/reset/", {"email": "x"}),
    "bad-page": ("anon", "get", "/api/courses/?page=999", None),
    "staff-only": ("user", "get", "/api/users/", None),
    "no-image": ("user", "post", "/api/images/", {}),
    "unknown-path": ("user", "get", "/api/nope/", None),
}


@pytest.mark.parametrize("name", BAD_REQUESTS)
def test_error_messages_asked_in_korean_are_korean(clients, name):
    who, method, path, body = BAD_REQUESTS[name]
    response = getattr(clients[who], method)(path, body, format="json", HTTP_ACCEPT_LANGUAGE="ko")
    assert 400 <= response.status_code < 500
    for message in messages_of(response):
        assert not english_words(message), message


@pytest.mark.parametrize(
    "authorization",
    ["expired", "Bearer abc", "Bearer", "Basic abc"],
)
def test_token_errors_asked_in_korean_are_korean(clients, authorization):
    if authorization == "expired":
        authorization = f"Bearer {expired_access(clients['user'])}"
    response = clients["anon"].get(
        "/api/users/me/", HTTP_AUTHORIZATION=authorization, HTTP_ACCEPT_LANGUAGE="ko"
    )
    assert response.status_code == 401
    for message in messages_of(response):
        assert not english_words(message), message


def test_the_checker_catches_what_the_libraries_left_in_english():
    assert english_words("이 필드는 blank일 수 없습니다.") == ["blank"]
    assert english_words("Datetime의 포멧이 잘못되었습니다.") == ["Datetime"]
    assert english_words('"nope"은 유효하지 않은 선택입니다.') == []

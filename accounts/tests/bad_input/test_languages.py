"""Error messages of the accounts endpoints follow Accept-Language: Korean or English."""

import re

import pytest

from core.testing import HANGUL, assert_error_envelope

# --- Accept-Language -------------------------------------------------------------------------

KOREAN = ["ko", "ko-KR,ko;q=0.9,en;q=0.8"]


@pytest.mark.parametrize("accept_language", KOREAN)
def test_invalid_credentials_message_is_korean_for_accept_language_ko(scene, accept_language):
    response = scene.send_json(
        "login", {"login": "alice", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE=accept_language
    )
    error = assert_error_envelope(response, 401, "invalid_credentials")
    assert response["Content-Language"] == "ko"
    assert HANGUL.search(error["message"]), error["message"]


@pytest.mark.parametrize("accept_language", KOREAN)
def test_validation_error_messages_are_korean_for_accept_language_ko(scene, accept_language):
    body = {**scene.valid_body("register"), "password_confirm": "Other-Lantern-43"}
    response = scene.send_json("register", body, HTTP_ACCEPT_LANGUAGE=accept_language)
    error = assert_error_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == ["password_confirm"]
    assert HANGUL.search(error["message"]), error["message"]
    assert HANGUL.search(error["fields"]["password_confirm"][0]), error["fields"]


def test_required_field_message_is_korean_for_accept_language_ko(scene):
    response = scene.send_json("login", {}, HTTP_ACCEPT_LANGUAGE="ko")
    error = assert_error_envelope(response, 400, "validation_error")
    assert all(HANGUL.search(messages[0]) for messages in error["fields"].values()), error


def test_messages_are_english_without_accept_language(scene):
    login = scene.send_json("login", {"login": "alice", "password": "wrong"})
    error = assert_error_envelope(login, 401, "invalid_credentials")
    assert error["message"] == "The login or password is incorrect."
    register = scene.send_json("register", {})
    error = assert_error_envelope(register, 400, "validation_error")
    assert error["message"] == "Some fields are invalid."
    assert error["fields"]["email"] == ["This field is required."]


def test_unsupported_language_falls_back_to_english(scene):
    response = scene.send_json(
        "login", {"login": "alice", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="fr"
    )
    error = assert_error_envelope(response, 401, "invalid_credentials")
    assert error["message"] == "The login or password is incorrect."
    assert re.fullmatch(r"en(-.*)?", response["Content-Language"])

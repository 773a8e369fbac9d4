"""Messages follow Accept-Language (ko, en), with the settings' language as the default."""

import pytest

from accounts.tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("ko", "아이디 또는 비밀번호가 올바르지 않습니다."),
        ("ko-KR,ko;q=0.9,en;q=0.8", "아이디 또는 비밀번호가 올바르지 않습니다."),
        ("en", "The login or password is incorrect."),
        ("fr", "The login or password is incorrect."),
    ],
)
def test_error_messages_follow_accept_language(api_client, language, message):
    UserFactory(email="known@example.com")
    response = api_client.post(
        "/api/auth/login/",
        {"login": "known@example.com", "password": "wrong-password"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_credentials",
        "message": message,
        "fields": {},
    }


@pytest.mark.django_db
def test_validation_messages_are_translated_field_by_field(api_client):
    response = api_client.post("/api/auth/register/", {}, HTTP_ACCEPT_LANGUAGE="ko")
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "입력값이 올바르지 않은 필드가 있습니다."
    assert error["fields"]["email"] == ["이 필드는 필수 항목입니다."]


@pytest.mark.django_db
def test_default_language_comes_from_settings(api_client, settings):
    settings.LANGUAGE_CODE = "ko"
    response = api_client.get("/api/users/me/")
    assert response.status_code == 401
    assert response["Content-Language"] == "ko"

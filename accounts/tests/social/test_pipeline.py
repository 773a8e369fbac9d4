"""The SOCIAL_AUTH_PIPELINE steps and the usernames of new accounts, called directly."""

import pytest
from social_django.utils import load_strategy

from accounts.errors import EmailUnverified
from accounts.models import CustomUser, username_validator
from accounts.social import pipeline
from accounts.tests.factories import UserFactory
from accounts.tests.social.stubs import google_profile, kakao_profile


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("backend_name", "response"),
    [
        ("google-oauth2", google_profile(email="shared@example.com", verified=False)),
        ("google-oauth2", {**google_profile(email="shared@example.com"), "email_verified": "true"}),
        ("kakao", kakao_profile(email="shared@example.com", verified=False)),
    ],
    ids=["google-false", "google-string-true", "kakao-false"],
)
def test_pipeline_step_links_only_an_email_the_provider_verified(backend_name, response):
    existing = UserFactory(email="shared@example.com")
    backend = load_strategy().get_backend(backend_name)
    details = {"email": "shared@example.com"}

    with pytest.raises(EmailUnverified) as refused:
        pipeline.associate_by_verified_email(backend=backend, details=details, response=response)
    assert refused.value.code == "email_unverified"

    verified = google_profile() if backend_name == "google-oauth2" else kakao_profile()
    linked = pipeline.associate_by_verified_email(
        backend=backend, details=details, response=verified
    )
    assert linked == {"user": existing, "is_new": False}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "nickname", "expected"),
    [
        ("jane.doe@gmail.com", "", "jane.doe"),
        ("jane+promo@gmail.com", "", "janepromo"),
        ("a@kakao.com", "김 민수", "김_민수"),
        ("a@kakao.com", "", "user"),
        ("x" * 40 + "@example.com", "", "x" * 30),
    ],
)
def test_username_comes_from_the_email_or_the_nickname(email, nickname, expected):
    assert pipeline.username_generate(email=email, nickname=nickname) == expected


@pytest.mark.django_db
def test_generated_username_avoids_taken_ones_case_insensitively():
    UserFactory(username="Jane.Doe")
    UserFactory(username="x" * 30)

    short = pipeline.username_generate(email="jane.doe@gmail.com")
    long = pipeline.username_generate(email="x" * 40 + "@example.com")

    assert short.lower() != "jane.doe"
    assert short.startswith("jane.doe_")
    assert long != "x" * 30
    assert len(long) <= 30
    for username in (short, long):
        username_validator(username)
        assert not CustomUser.objects.filter(username__iexact=username).exists()

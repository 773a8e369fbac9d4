"""ApplicationError subclasses carry their rule (code, status, message); errors_of puts their
codes into the operation's schema as an enum, merged with the framework's at the same status."""

import importlib
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from core.errors import FileTooLarge, IdempotencyKeyReused, InvalidImage
from core.exceptions import ApplicationError, exception_handler
from core.openapi import errors_of
from core.testing import HANGUL, SNAKE_CASE, documented_error_codes


class Clash(ApplicationError):
    code = "test_clash"
    status = status.HTTP_409_CONFLICT
    message = _("This Idempotency-Key was used with a different request.")


class Unfit(ApplicationError):
    code = "test_unfit"
    message = _("Some fields are invalid.")
    field = "name"


def test_a_rule_raised_bare_answers_its_code_status_and_message():
    response = exception_handler(Clash(), {})
    assert response.status_code == 409
    assert response.data == {
        "error": {
            "code": "test_clash",
            "message": "This Idempotency-Key was used with a different request.",
            "fields": {},
        }
    }


def test_a_rule_may_say_more_and_fill_placeholders_in_the_request_language():
    with translation.override("ko"):
        error = FileTooLarge(size="5 MB")
        korean = str(error.message)
    assert "5 MB" in korean and korean != "Files may be at most 5 MB."
    said = InvalidImage("The image is damaged or incomplete.")
    assert said.message == "The image is damaged or incomplete."
    assert said.fields == {"file": ["The image is damaged or incomplete."]}


def test_a_rule_about_a_field_names_it_and_explicit_fields_win():
    assert Unfit().fields == {"name": ["Some fields are invalid."]}
    assert Unfit(fields={"other": ["x"]}).fields == {"other": ["x"]}


def test_headers_of_a_rule_reach_the_response():
    response = exception_handler(Clash(headers={"Retry-After": "3"}), {})
    assert response["Retry-After"] == "3"


def test_errors_of_groups_rules_by_status():
    grouped = errors_of(Clash, IdempotencyKeyReused, Unfit)
    assert {code: r.error_classes for code, r in grouped.items()} == {
        409: (Clash, IdempotencyKeyReused),
        400: (Unfit,),
    }


class _DeclaringApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="declaring", responses={200: None, **errors_of(Clash, Unfit)})
    def post(self, request):
        raise Clash()


def _responses() -> dict:
    generator = SchemaGenerator(patterns=[path("api/declaring/", _DeclaringApi.as_view())])
    schema = generator.get_schema(request=None, public=True)
    return schema["paths"]["/api/declaring/"]["post"]["responses"]


@pytest.mark.parametrize(
    ("status_code", "codes"),
    [
        ("409", ["test_clash"]),
        ("400", ["validation_error", "parse_error", "bad_request", "test_unfit"]),
        ("403", ["permission_denied"]),
    ],
)
def test_declared_rules_join_the_framework_codes_of_their_status(status_code, codes):
    assert documented_error_codes(_responses()[status_code]) == codes


def every_rule() -> list[type[ApplicationError]]:
    for app in apps.get_app_configs():
        if (Path(app.path) / "errors.py").exists():
            importlib.import_module(f"{app.name}.errors")
    found, pending = [], [ApplicationError]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if not subclass.__module__.endswith(".tests") and "test" not in subclass.__module__:
                found.append(subclass)
            pending.append(subclass)
    return found


def test_each_code_has_one_family_of_rules():
    """Two unrelated classes with one code would be two rules a client cannot tell apart."""
    rules = every_rule()
    assert len(rules) > 50
    for rule in rules:
        family = [other for other in rules if other.code == rule.code]
        roots = [r for r in family if not any(r is not o and issubclass(r, o) for o in family)]
        assert len(roots) == 1, f"{rule.code}: {[r.__qualname__ for r in roots]}"
        assert SNAKE_CASE.match(rule.code), rule
        assert 400 <= rule.status < 600, rule


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_rule_has_a_message_in_each_language(language):
    untranslated = []
    for rule in every_rule():
        english = str(rule.message)
        with translation.override(language):
            said = str(rule.message)
        if not said.strip() or (language == "ko" and not HANGUL.search(said)):
            untranslated.append(f"{rule.__module__}.{rule.__qualname__}: {english}")
    assert not untranslated

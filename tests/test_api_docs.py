"""The API docs are served from this project (offline, no CDN script on the API's origin), under a
Content-Security-Policy, to whom API_DOCS_PUBLIC says."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, TutorFactory, UserFactory

ROOT = Path(__file__).resolve().parents[1]
DOC_PAGES = ["/api/docs/", "/api/redoc/"]


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.django_db
@pytest.mark.parametrize("path", DOC_PAGES)
def test_doc_pages_load_only_files_of_this_origin_that_exist(path):
    response = Client().get(path)

    assert response.status_code == 200
    html = response.content.decode()
    assets = _assets(html)
    assert assets
    for url in assets:
        assert url.startswith("/"), url  # nothing from a CDN, nothing @latest
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    assert "<script>" not in html  # no inline script: the CSP forbids them
    for needle in ("cdn.jsdelivr", "unpkg", "googleapis", "@latest"):
        assert needle not in html


@pytest.mark.django_db
def test_swagger_ui_takes_its_settings_from_a_script_of_this_origin():
    response = Client().get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", [*DOC_PAGES, "/admin/login/"])
def test_pages_forbid_scripts_from_elsewhere_and_framing(path):
    policy = Client().get(path)["Content-Security-Policy"]

    assert "script-src 'self';" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy


@pytest.mark.django_db
def test_json_answers_may_load_nothing():
    response = Client().get("/api/health/")
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", *DOC_PAGES])
def test_private_docs_are_for_staff_only(settings, path):
    settings.API_DOCS_PUBLIC = False
    staff = StaffFactory()
    admin_session = Client()
    admin_session.force_login(staff)

    anonymous = Client().get(path)
    student = client_for(UserFactory()).get(path)

    assert anonymous.status_code in (401, 403)
    assert student.status_code == 403
    assert admin_session.get(path).status_code == 200
    assert client_for(staff).get(path).status_code == 200


# --- Who may read them in production ------------------------------------------------------------

PRIVATE_DOCS = ["/api/schema/", "/api/schema/?format=json", *DOC_PAGES, "/api/docs/?script="]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PRIVATE_DOCS)
@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_private_docs_give_outsiders_nothing_of_the_schema(settings, path, method):
    settings.API_DOCS_PUBLIC = False
    outsiders = {
        "anonymous": Client(),
        "student": client_for(UserFactory()),
        "tutor": client_for(TutorFactory()),
        "forged token": Client(HTTP_AUTHORIZATION="Bearer eyJhbGciOiJub25lIn0.e30."),
        "staff's session cookie without the session": Client(HTTP_COOKIE="sessionid=forged"),
    }
    for who, client in outsiders.items():
        response = getattr(client, method)(path)
        assert response.status_code in (401, 403), (who, response.status_code)
        body = response.content.decode()
        for leak in ("openapi", "/api/auth/login/", "swagger", "Redoc"):
            assert leak not in body, (who, leak)


@pytest.mark.django_db
def test_private_docs_open_to_a_deactivated_staff_member_never(settings):
    settings.API_DOCS_PUBLIC = False
    staff = StaffFactory()
    session, token = Client(), client_for(staff)
    session.force_login(staff)
    staff.is_active = False
    staff.save()

    assert session.get("/api/schema/").status_code in (401, 403)
    assert token.get("/api/schema/").status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("path", PRIVATE_DOCS)
def test_public_docs_are_for_anyone(settings, path):
    settings.API_DOCS_PUBLIC = True
    assert Client().get(path).status_code == 200


def test_the_docs_are_public_in_development_and_tests():
    """Production's own default (staff only) is tests/test_settings.py's."""
    code = "from django.conf import settings; print(settings.API_DOCS_PUBLIC)"
    for module in ("config.settings.local", "config.settings.test"):
        env = {key: value for key, value in os.environ.items() if key != "API_DOCS_PUBLIC"}
        env.update(DJANGO_SETTINGS_MODULE=module, DJANGO_ENV_FILE=os.devnull)
        result = subprocess.run(  # noqa: S603 (our interpreter, a fixed snippet)
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert result.stdout.strip() == "True", module

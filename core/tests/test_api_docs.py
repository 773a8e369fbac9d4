"""The API docs are served from this project (offline, no CDN script on the API's origin), under a
Content-Security-Policy, to whom API_DOCS_PUBLIC says."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from accounts.testing import client_for
from accounts.tests.factories import StaffFactory, UserFactory

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

"""nginx in front of gunicorn as deployed: the rendered configuration, HTTP to HTTPS, the ACME
path, static files, protected video through X-Accel-Redirect, headers, compression, HTTP/2 and the
access log. Hosts, limits and IPv6 keys have files of their own."""

import gzip
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from e2e.conftest import DEMO_PASSWORD, MP4, bearer, login, staff_create, user_create
from tools.app import PROTECTED_PREFIX
from tools.stack import edge_only

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_security_headers_once(reply) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert reply.header_values(name) == [value], (name, reply.status, reply.header_list)


def test_rendered_configuration_passes_nginx_t(edge):
    nginx_dir = edge.run_dir / "nginx"
    result = subprocess.run(
        ["nginx", "-t", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    rendered = (nginx_dir / "conf.d" / "default.conf").read_text()
    assert "${NGINX_" not in rendered  # every template variable was given
    proxy = (nginx_dir / "snippets" / "django_proxy.conf").read_text()
    assert "$proxy_add_x_forwarded_for" in proxy


def test_plain_http_redirects_to_https_keeping_the_path(edge):
    for path in ("/api/health/", "/admin/login/?next=/admin/", "/static/admin/css/base.css"):
        reply = edge.request("GET", path, tls=False)
        assert reply.status == 301, (path, reply.status)
        assert reply.header("Location") == f"{edge.base_url}{path}"


def test_acme_challenge_is_answered_over_http_from_the_webroot(edge):
    challenge = edge.run_dir / "acme" / ".well-known" / "acme-challenge"
    challenge.mkdir(parents=True, exist_ok=True)
    (challenge / "token-123").write_text("token-123.key-authorisation")
    reply = edge.request("GET", "/.well-known/acme-challenge/token-123", tls=False)
    assert (reply.status, reply.body) == (200, b"token-123.key-authorisation")
    missing = edge.request("GET", "/.well-known/acme-challenge/unknown", tls=False)
    assert missing.status == 404  # not redirected: certbot must see the real answer


def test_https_api_calls_reach_django_as_secure_with_the_clients_ip(edge):
    # The client speaks from 127.0.0.2 and forges an X-Forwarded-For entry; nginx appends the
    # address it saw, and Django (one trusted hop) must record that one.
    tokens = login(
        edge, "student2@example.com", source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.9"}
    )
    sessions = edge.request("GET", "/api/auth/sessions/", headers=bearer(tokens["access"]))
    assert sessions.status == 200, sessions.body
    current = [s for s in sessions.json()["results"] if s["current"]]
    assert [s["ip"] for s in current] == ["127.0.0.2"]
    # Production redirects plain HTTP to HTTPS: gunicorn asked directly, without the proxy's
    # X-Forwarded-Proto, answers 301; through nginx the same call is 200, so Django saw HTTPS.
    direct = edge.request(
        "GET", "/api/users/me/", port=edge.gunicorn_ports[0], headers=bearer(tokens["access"])
    )
    assert direct.status == 301
    assert direct.header("Location").startswith("https://")
    me = edge.request("GET", "/api/users/me/", headers=bearer(tokens["access"]))
    assert me.status == 200 and me.json()["email"] == "student2@example.com"


def test_security_headers_are_sent_once_without_hsts_preload_by_default(edge):
    reply = edge.request("GET", "/api/health/")
    assert reply.status == 200
    assert_security_headers_once(reply)
    assert reply.header("Server") == "nginx"  # no version


def test_hsts_preload_is_sent_once_the_operator_opts_in():
    with edge_only(NGINX_HSTS_PRELOAD="true") as nginx:
        reply = nginx.request("GET", "/api/health/")
    assert reply.header_values("Strict-Transport-Security") == [
        "max-age=31536000; includeSubDomains; preload"
    ]


def test_nginx_own_503_keeps_the_security_headers_and_the_envelope():
    # No upstream answers: nginx itself replies, from its named error location.
    with edge_only() as nginx:
        reply = nginx.request("GET", "/api/users/me/")
    assert reply.status == 503
    assert reply.json()["error"]["code"] == "service_unavailable"
    assert reply.header("Retry-After") == "5"
    assert_security_headers_once(reply)


def test_hashed_static_names_are_immutable_and_other_names_are_revalidated(edge):
    # The admin's pages name their CSS by its content hash (ManifestStaticFilesStorage), so a new
    # release reaches browsers that keep the old file for a year.
    page = edge.request("GET", "/admin/login/", source="127.0.0.6")
    assert page.status == 200
    hashed = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page.body.decode())
    assert hashed, "the admin page does not name its CSS by content hash"
    reply = edge.request("GET", hashed[1])
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/css"
    assert reply.header_values("Cache-Control") == ["public, max-age=31536000, immutable"]
    assert reply.header("Expires") is None
    assert_security_headers_once(reply)
    on_disk = Path(edge.env["STATIC_ROOT"]) / hashed[1].removeprefix("/static/")
    assert reply.body == on_disk.read_bytes()

    plain = edge.request("GET", "/static/admin/css/base.css")
    assert plain.status == 200
    assert plain.header_values("Cache-Control") == ["no-cache"]
    assert plain.header("ETag") or plain.header("Last-Modified")
    # gunicorn itself does not serve them in production: nginx did.
    direct = edge.request(
        "GET",
        hashed[1],
        port=edge.gunicorn_ports[0],
        headers={"X-Forwarded-Proto": "https"},
    )
    assert direct.status == 404


def test_json_is_gzipped(edge):
    staff = login(edge, staff_create(edge))
    reply = edge.request(
        "GET",
        "/api/schema/?format=json",
        headers={**bearer(staff["access"]), "Accept-Encoding": "gzip"},
    )
    assert reply.status == 200
    assert reply.header("Content-Encoding") == "gzip"
    assert gzip.decompress(reply.body).startswith(b"{")


def test_auth_answers_are_never_compressed(edge):
    # BREACH: a compressed answer holding a token next to attacker-chosen text leaks the token
    # through its size. The session list is well above gzip_min_length.
    email = user_create(edge)
    tokens = [login(edge, email)["access"] for _ in range(8)]
    gzip_ok = {"Accept-Encoding": "gzip"}
    sessions = edge.request("GET", "/api/auth/sessions/", headers={**bearer(tokens[-1]), **gzip_ok})
    assert sessions.status == 200
    assert len(sessions.body) > 1024
    assert sessions.header("Content-Encoding") is None
    assert sessions.json()["results"]
    reply = edge.request(
        "POST",
        "/api/auth/login/",
        body={"login": email, "password": DEMO_PASSWORD},
        headers=gzip_ok,
    )
    assert reply.status == 200
    assert reply.header("Content-Encoding") is None
    assert reply.json()["access"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_https_speaks_http2(edge):
    result = subprocess.run(
        [
            "curl", "--silent", "--show-error", "--http2", "--output", "/dev/null",
            "--write-out", "%{http_version} %{http_code}", "--cacert", str(edge.certificate),
            f"{edge.base_url}/api/health/",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2 200"


def test_gunicorns_access_log_names_the_client_nginx_saw_not_a_forged_hop(edge):
    marker = secrets.token_hex(6)
    reply = edge.request(
        "GET",
        f"/api/health/?marker={marker}",
        source="127.0.0.2",
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert reply.status == 200
    # gunicorn writes the line once the answer has left: wait for it.
    deadline = time.monotonic() + 10
    while not (lines := [line for line in edge.gunicorn_log().splitlines() if marker in line]):
        assert time.monotonic() < deadline, "no access log line"
        time.sleep(0.1)
    assert len(lines) == 1, lines
    assert lines[0].startswith('127.0.0.2 "GET /api/health/?marker=')
    assert "203.0.113.9" not in lines[0]


def test_protected_video_streams_through_x_accel_redirect_with_ranges(edge, lecture_video):
    student = login(edge, "student1@example.com")
    stream = f"/api/videos/{lecture_video['id']}/stream/"
    whole = edge.request("GET", stream, headers=bearer(student["access"]))
    assert whole.status == 200
    assert whole.body == MP4
    assert whole.header("X-Accel-Redirect") is None  # consumed by nginx, never shown
    part = edge.request("GET", stream, headers={**bearer(student["access"]), "Range": "bytes=0-99"})
    assert part.status == 206
    assert part.header("Content-Range") == f"bytes 0-99/{len(MP4)}"
    assert part.body == MP4[:100]
    tail = edge.request("GET", stream, headers={**bearer(student["access"]), "Range": "bytes=-10"})
    assert (tail.status, tail.body) == (206, MP4[-10:])
    # nginx served those bytes: Django answered the access check with an empty X-Accel response.
    direct = edge.request(
        "GET",
        stream,
        port=edge.gunicorn_ports[1],
        headers={**bearer(student["access"]), "X-Forwarded-Proto": "https"},
    )
    assert direct.status == 200 and direct.body == b""
    assert direct.header("X-Accel-Redirect").startswith(PROTECTED_PREFIX)


def test_protected_location_is_404_from_outside_and_others_are_refused(edge, lecture_video):
    relative = lecture_video["path"].relative_to(edge.env["PROTECTED_MEDIA_ROOT"])
    outside = edge.request("GET", f"{PROTECTED_PREFIX}{relative}")
    assert outside.status == 404
    assert outside.body != MP4
    stranger = login(edge, "student2@example.com")
    refused = edge.request(
        "GET", f"/api/videos/{lecture_video['id']}/stream/", headers=bearer(stranger["access"])
    )
    assert refused.status == 403
    assert refused.json()["error"]["code"] == "not_entitled"

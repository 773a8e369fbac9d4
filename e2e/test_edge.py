"""nginx in front of gunicorn as deployed: the rendered configuration, HTTP to HTTPS, the ACME
path, static files, protected video through X-Accel-Redirect, headers and nginx's own errors."""

import gzip
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from e2e.conftest import MP4, bearer, login
from e2e.stack import PROTECTED_PREFIX


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
    assert "$proxy_add_x_forwarded_for" in (nginx_dir / "django_proxy.conf").read_text()


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


def test_security_headers_are_sent_once(edge):
    reply = edge.request("GET", "/api/health/")
    raw = edge.request("GET", "/api/health/")
    assert reply.header("Strict-Transport-Security").startswith("max-age=31536000")
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("X-Frame-Options") == "DENY"
    assert reply.header("Server") == "nginx"  # no version
    # http.client folds repeated headers into the dict's last value; count them on the wire.
    assert list(map(str.lower, raw.headers)).count("strict-transport-security") == 1


def test_static_files_are_served_by_nginx(edge):
    reply = edge.request("GET", "/static/admin/css/base.css")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/css"
    assert "immutable" in reply.header("Cache-Control")
    on_disk = Path(edge.env["STATIC_ROOT"]) / "admin" / "css" / "base.css"
    assert reply.body == on_disk.read_bytes()
    # gunicorn itself does not serve them in production: nginx did.
    direct = edge.request(
        "GET",
        "/static/admin/css/base.css",
        port=edge.gunicorn_ports[0],
        headers={"X-Forwarded-Proto": "https"},
    )
    assert direct.status == 404


def test_json_is_gzipped(edge):
    reply = edge.request("GET", "/api/schema/?format=json", headers={"Accept-Encoding": "gzip"})
    assert reply.status == 200
    assert reply.header("Content-Encoding") == "gzip"
    assert gzip.decompress(reply.body).startswith(b"{")


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


def test_oversized_body_is_413_in_the_error_envelope(edge):
    # Far below client_max_body_size nginx lets it through and Django answers 413 itself;
    # above it, nginx answers with the same envelope without touching gunicorn.
    reply = edge.request(
        "POST",
        "/api/videos/",
        body=b"x" * (521 * 1024 * 1024),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert reply.status == 413
    assert reply.json()["error"]["code"] == "request_too_large"


def test_auth_endpoints_are_rate_limited_by_nginx_with_the_envelope(edge):
    def attempt(_):
        return edge.request(
            "POST",
            "/api/auth/login/",
            body={"login": "nobody@example.com", "password": "wrong-password"},
            source="127.0.0.3",
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(attempt, range(60)))
    limited = [reply for reply in replies if reply.status == 429]
    assert limited, [reply.status for reply in replies]
    assert all(reply.json()["error"]["code"] == "throttled" for reply in limited)
    assert {reply.status for reply in replies} <= {401, 429}

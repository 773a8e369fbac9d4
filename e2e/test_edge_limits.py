"""nginx's limits as deployed: request body sizes per location (413 in the envelope, decided by
nginx before gunicorn sees anything), whole bodies taken before a worker is used, and limit_req on
the credential endpoints and the admin's login form (429 in the envelope, with the security
headers)."""

import re
import secrets
import socket
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from e2e.conftest import DEMO_PASSWORD, bearer, login, multipart, staff_create, topic_create
from e2e.test_edge import assert_security_headers_once
from tools.app import SERVER_NAME
from tools.clients import Reply, connect, exchange
from tools.procs import HOST

MIB = 1024 * 1024


def declared_body(edge, method: str, path: str, length: int) -> Reply:
    """Send only the headers of a request announcing `length` body bytes: nginx judges the size
    from Content-Length at once."""
    conn = connect(edge.https_port, str(edge.certificate), timeout=30)
    try:
        conn.putrequest(method, path)
        conn.putheader("Content-Type", "application/octet-stream")
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        response = conn.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def refused_by_nginx(edge, path: str) -> bool:
    """nginx logged refusing this request's body as too large."""
    return any(
        "client intended to send too large body" in line and f" {path} " in line
        for line in edge.nginx_log().splitlines()
    )


@pytest.mark.parametrize(
    ("method", "path", "too_large"),
    [
        # JSON (DATA_UPLOAD_MAX_MEMORY_SIZE) and pictures (IMAGE_MAX_UPLOAD_BYTES): the default.
        ("POST", "/api/images/", 6 * MIB + 1),
        ("PUT", "/api/courses/1/thumbnail/", 6 * MIB + 1),
        ("PATCH", "/api/users/me/", 6 * MIB + 1),
        ("POST", "/api/auth/login/", 6 * MIB + 1),
        # SUBMISSION_MAX_FILE_BYTES and the text next to it.
        ("POST", "/api/topics/1/submissions/", 11 * MIB + 1),
        # VIDEO_MAX_UPLOAD_BYTES.
        ("POST", "/api/videos/", 520 * MIB + 1),
    ],
)
def test_a_body_above_the_locations_limit_is_refused_by_nginx_in_the_envelope(
    edge, method, path, too_large
):
    path = f"{path}?size={secrets.token_hex(4)}"
    reply = declared_body(edge, method, path, too_large)
    assert reply.status == 413
    assert_security_headers_once(reply)
    assert reply.body == (
        b'{"error": {"code": "request_too_large", "message": "The request body is too large.",'
        b' "fields": {}}}'
    )
    assert refused_by_nginx(edge, path)


@pytest.fixture(scope="module")
def uploader(edge) -> dict:
    """A staff member's bearer header and an assignment topic they may submit to."""
    token = login(edge, staff_create(edge))["access"]
    return {"headers": bearer(token), "topic": topic_create("assignment", "Limits")}


@pytest.mark.parametrize(
    ("path", "file_name", "size", "status", "code"),
    [
        # Django refuses the content, having read it all (sync workers that answer before the
        # body is in would make nginx's send fail: a 503 that says nothing about the limit).
        ("/api/images/", "picture.png", 4 * MIB + 512 * 1024, 400, "invalid_image"),
        # Above the 6m default: the submissions location allows it, and so does Django.
        ("/api/topics/{topic}/submissions/", "report.txt", 8 * MIB, 201, None),
        ("/api/videos/", "lesson.mp4", 20 * MIB, 400, None),
    ],
)
def test_a_body_within_the_locations_limit_reaches_django(
    edge, uploader, path, file_name, size, status, code
):
    path = path.format(topic=uploader["topic"]) + f"?size={secrets.token_hex(4)}"
    body, content_type = multipart({"title": "Limits"}, file_name, b"x" * size)
    reply = edge.request(
        "POST", path, body=body, headers={**uploader["headers"], "Content-Type": content_type}
    )
    assert reply.status == status, reply.body[:300]
    if code:
        assert reply.json()["error"]["code"] == code
    assert not refused_by_nginx(edge, path)


def test_slow_uploads_do_not_hold_gunicorn_workers(edge):
    """nginx takes a (non-video) body whole before it forwards the request: clients that send
    half a body and stall tie up nginx connections, not the four sync workers."""
    context = edge.ssl_context()
    stalled = []
    try:
        for _ in range(3 * len(edge.gunicorn_ports) * 2):
            raw = socket.create_connection(
                (HOST, edge.https_port), timeout=10, source_address=("127.0.0.10", 0)
            )
            conn = context.wrap_socket(raw, server_hostname=SERVER_NAME)
            stalled.append(conn)
            conn.sendall(
                b"POST /api/auth/login/ HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                b'{"login": "'
            )
        time.sleep(0.5)  # unbuffered, they would be in gunicorn's workers by now
        started = time.monotonic()
        reply = edge.request("GET", "/api/health/", timeout=8)
        assert reply.status == 200
        assert time.monotonic() - started < 3
    finally:
        for conn in stalled:
            conn.close()


def burst(edge, path: str, count: int, *, source: str) -> list:
    """`count` POSTs of an empty JSON object, one after the other on one kept-alive connection:
    Django answers each in milliseconds (400, nothing to check a password against), so they reach
    nginx far faster than any limit's rate."""
    conn = connect(edge.https_port, str(edge.certificate), source=source, timeout=30)
    try:
        return [exchange(conn, "POST", path, body={}) for _ in range(count)]
    finally:
        conn.close()


CREDENTIAL_PATHS = [
    "/api/auth/login/",
    "/api/auth/register/",
    "/api/auth/token/refresh/",
    "/api/auth/password/reset/",
    "/api/auth/password/reset/confirm/",
    "/api/auth/social/google/",
]


@pytest.mark.parametrize(("index", "path"), list(enumerate(CREDENTIAL_PATHS)))
def test_credential_endpoints_are_rate_limited_by_nginx_with_the_envelope(edge, index, path):
    source = f"127.0.3.{index + 1}"
    replies = burst(edge, path, 60, source=source)
    statuses = [reply.status for reply in replies]
    # The zone lets a client 20 requests ahead of 10 a second, then refuses. (Django's own
    # per-IP limits are raised out of the way for the e2e suite: these 429s are nginx's.)
    assert 429 not in statuses[:21], statuses
    assert statuses.count(429) >= 20, statuses
    for reply in replies:
        if reply.status == 429:
            assert reply.json()["error"]["code"] == "throttled"
            assert reply.header("Retry-After") == "1"
            assert_security_headers_once(reply)
    assert f'by zone "auth", client: {source}' in edge.nginx_log()


def admin_login_form(edge, source: str) -> tuple[str, str]:
    """The admin's login page: its CSRF cookie and form token."""
    page = edge.request("GET", "/admin/login/", source=source)
    assert page.status == 200
    cookie = SimpleCookie(page.header("Set-Cookie"))["csrftoken"].value
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body.decode())[1]
    return cookie, token


def admin_sign_in(edge, source: str, form: tuple[str, str], email: str, password: str):
    """The admin's login form posted as a browser on the site's page does: with its CSRF cookie
    and token, and the page's Origin and Referer (the stack's port included)."""
    cookie, token = form
    return edge.request(
        "POST",
        "/admin/login/?next=/admin/",
        body=urlencode(
            {"csrfmiddlewaretoken": token, "username": email, "password": password}
        ).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Origin": edge.base_url,
            "Referer": f"{edge.base_url}/admin/login/",
        },
        source=source,
    )


def test_the_admin_signs_in_on_the_sites_own_port(edge):
    """A browser on https://host:port/ (not 443) sends Origin and Referer with the port; nginx
    forwards the Host with it, so Django's CSRF check sees the site itself, not another."""
    source = "127.0.0.11"
    email = staff_create(edge)
    reply = admin_sign_in(edge, source, admin_login_form(edge, source), email, DEMO_PASSWORD)
    assert (reply.status, reply.header("Location")) == (302, "/admin/"), reply.body[:300]
    assert edge.base_url.rsplit(":", 1)[1] != "443"


NGINX_THROTTLED = (
    b'{"error": {"code": "throttled", "message": "Too many requests. Retry shortly.",'
    b' "fields": {}}}'
)


def test_admin_login_is_rate_limited_by_nginx(edge):
    """40 wrong passwords in a row, then the right one: nginx lets ten or so through to Django,
    refuses the rest (the right one too) before they cost a worker an Argon2 hash."""
    source = "127.0.0.5"
    email = staff_create(edge)
    form = admin_login_form(edge, source)

    def attempt(password: str):
        return admin_sign_in(edge, source, form, email, password)

    replies = [attempt(f"wrong-{n}") for n in range(40)]
    # nginx's refusals are its JSON envelope; Django's own answers (the form again, or its own
    # per-account refusal) are HTML.
    by_nginx = [reply for reply in replies if reply.body == NGINX_THROTTLED]
    assert len(replies) - len(by_nginx) <= 12, [reply.status for reply in replies]
    assert len(by_nginx) >= 25
    for reply in by_nginx:
        assert reply.status == 429
        assert reply.header("Retry-After") == "6"
        assert_security_headers_once(reply)
    right = attempt(DEMO_PASSWORD)
    assert (right.status, right.body) == (429, NGINX_THROTTLED)
    assert 'by zone "admin_login", client: 127.0.0.5' in edge.nginx_log()
    # Another client is not held back by this one.
    assert admin_login_form(edge, "127.0.0.8")

"""Two gunicorn instances behind one nginx upstream, sharing PostgreSQL and Redis: a login is one
login everywhere, a logout ends it everywhere at once (also where each worker holds the session
check itself), a change made through one instance shows on the other at once, and throttles
count across instances."""

from http.cookies import SimpleCookie

import redis

from e2e.conftest import DEMO_PASSWORD, FRONTEND_ORIGIN, bearer

PROXIED = {"X-Forwarded-Proto": "https"}


def _direct(edge, instance: int, method: str, path: str, **kwargs):
    """A request to one gunicorn instance, as nginx would forward it."""
    headers = {**PROXIED, **kwargs.pop("headers", {})}
    return edge.request(method, path, port=edge.gunicorn_ports[instance], headers=headers, **kwargs)


def _login_on(edge, instance: int, email: str):
    reply = _direct(
        edge,
        instance,
        "POST",
        "/api/auth/login/",
        body={"login": email, "password": DEMO_PASSWORD},
    )
    assert reply.status == 200, reply.body
    cookie = SimpleCookie(reply.header("Set-Cookie"))
    return reply.json()["access"], cookie


def _logout_on(edge, instance: int, cookie: SimpleCookie, frontend_port: int) -> None:
    """Logs out through one instance as a browser frontend does (refresh token in the cookie)."""
    name, morsel = next(iter(cookie.items()))
    logout = _direct(
        edge,
        instance,
        "POST",
        "/api/auth/logout/",
        body={},
        headers={
            "Cookie": f"{name}={morsel.value}",
            "Origin": FRONTEND_ORIGIN.format(port=frontend_port),
        },
    )
    assert logout.status == 204, logout.body


def test_a_token_issued_by_one_instance_is_accepted_by_the_other(edge):
    access, _cookie = _login_on(edge, 0, "student1@example.com")
    reply = _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access))
    assert reply.status == 200
    assert reply.json()["email"] == "student1@example.com"


def test_logout_through_one_instance_is_honoured_by_the_other_at_once(edge, frontend_port):
    access, cookie = _login_on(edge, 0, "tutor@example.com")
    # Warm the other instance's caches with this session first, so a stale copy would show.
    assert _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access)).status == 200
    _logout_on(edge, 0, cookie, frontend_port)
    after = _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access))
    assert after.status == 401
    assert after.json()["error"]["code"] == "session_revoked"
    # And through nginx, whichever instance it picks.
    for _ in range(4):
        assert edge.request("GET", "/api/users/me/", headers=bearer(access)).status == 401


def test_the_login_throttle_counts_across_both_instances(edge):
    # THROTTLE_LOGIN_ACCOUNT is 10/min: ten wrong passwords spread over both instances use it up.
    statuses = []
    for attempt in range(11):
        reply = _direct(
            edge,
            attempt % 2,
            "POST",
            "/api/auth/login/",
            body={"login": "admin@example.com", "password": "not-the-password"},
        )
        statuses.append(reply.status)
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # The right password is refused too while throttled, on either instance.
    for instance in (0, 1):
        reply = _direct(
            edge,
            instance,
            "POST",
            "/api/auth/login/",
            body={"login": "admin@example.com", "password": DEMO_PASSWORD},
        )
        assert reply.status == 429
        assert reply.json()["error"]["code"] == "throttled"


def test_nginx_spreads_requests_over_both_instances(edge):
    access, _cookie = _login_on(edge, 1, "student2@example.com")
    for _ in range(20):
        assert edge.request("GET", "/api/users/me/", headers=bearer(access)).status == 200
    upstreams = {
        line.split()[-1] for line in _access_log(edge) if '"GET /api/users/me/ HTTP' in line
    }
    assert upstreams == {f"127.0.0.1:{port}" for port in edge.gunicorn_ports}


def _access_log(edge) -> list[str]:
    return (edge.run_dir / "nginx" / "access.log").read_text().splitlines()


# --- What each process holds (core.near_cache) ---------------------------------------------------


def _mget_calls(edge) -> int:
    """Redis MGETs so far: every session check or kept answer not held by a process is one."""
    client = redis.Redis.from_url(edge.redis.url())
    try:
        return client.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)
    finally:
        client.close()


def _held_by(edge, instance: int, path: str, headers: dict, requests: int = 12) -> None:
    """Enough requests that each worker of the instance holds what `path` reads."""
    for _ in range(requests):
        assert _direct(edge, instance, "GET", path, headers=headers).status == 200


def test_an_instance_answers_a_held_session_without_redis_and_refuses_it_at_once_after_a_logout(
    edge, frontend_port
):
    access, cookie = _login_on(edge, 0, "student2@example.com")
    _held_by(edge, 1, "/api/users/me/", bearer(access))
    before = _mget_calls(edge)
    _held_by(edge, 1, "/api/users/me/", bearer(access), requests=20)
    assert _mget_calls(edge) - before < 10, "the session checks were not held by the workers"
    _logout_on(edge, 0, cookie, frontend_port)
    statuses = [
        _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access)).status for _ in range(8)
    ]
    assert statuses == [401] * 8


def test_a_profile_change_through_one_instance_shows_on_the_other_at_once(edge):
    access, _cookie = _login_on(edge, 0, "student1@example.com")
    _held_by(edge, 1, "/api/users/me/", bearer(access))
    original = _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access)).json()["name"]
    try:
        renamed = _direct(
            edge, 0, "PATCH", "/api/users/me/", body={"name": "Renamed"}, headers=bearer(access)
        )
        assert renamed.status == 200, renamed.body
        for _ in range(6):
            me = _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access))
            assert me.json()["name"] == "Renamed"
    finally:
        body = {"name": original}
        _direct(edge, 0, "PATCH", "/api/users/me/", body=body, headers=bearer(access))


def test_a_course_change_through_one_instance_shows_on_the_other_at_once(edge):
    tutor, _cookie = _login_on(edge, 0, "tutor@example.com")
    course = _direct(edge, 0, "GET", "/api/courses/?mine=true", headers=bearer(tutor))
    course_id = course.json()["results"][0]["id"]
    path = f"/api/courses/{course_id}/"
    _held_by(edge, 1, path, {})
    etag = _direct(edge, 1, "GET", path).header("ETag")
    assert _direct(edge, 1, "GET", path, headers={"If-None-Match": etag}).status == 304
    original = _direct(edge, 1, "GET", path).json()["short_description"]
    try:
        changed = _direct(
            edge, 0, "PATCH", path, body={"short_description": "Changed"}, headers=bearer(tutor)
        )
        assert changed.status == 200, changed.body
        for _ in range(6):
            again = _direct(edge, 1, "GET", path, headers={"If-None-Match": etag})
            assert again.status == 200
            assert again.json()["short_description"] == "Changed"
            listed = _direct(edge, 1, "GET", "/api/courses/").json()["results"]
            assert {c["id"]: c["short_description"] for c in listed}[course_id] == "Changed"
    finally:
        _direct(edge, 0, "PATCH", path, body={"short_description": original}, headers=bearer(tutor))

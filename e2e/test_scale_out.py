"""Two gunicorn instances behind one nginx upstream, sharing PostgreSQL and Redis: a login is one
login everywhere, a logout ends it everywhere at once, and throttles count across instances."""

from http.cookies import SimpleCookie

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


def test_a_token_issued_by_one_instance_is_accepted_by_the_other(edge):
    access, _cookie = _login_on(edge, 0, "student1@example.com")
    reply = _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access))
    assert reply.status == 200
    assert reply.json()["email"] == "student1@example.com"


def test_logout_through_one_instance_is_honoured_by_the_other_at_once(edge, frontend_port):
    access, cookie = _login_on(edge, 0, "tutor@example.com")
    # Warm the other instance's caches with this session first, so a stale copy would show.
    assert _direct(edge, 1, "GET", "/api/users/me/", headers=bearer(access)).status == 200
    name, morsel = next(iter(cookie.items()))
    logout = _direct(
        edge,
        0,
        "POST",
        "/api/auth/logout/",
        body={},
        headers={
            "Cookie": f"{name}={morsel.value}",
            "Origin": FRONTEND_ORIGIN.format(port=frontend_port),
        },
    )
    assert logout.status == 204, logout.body
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

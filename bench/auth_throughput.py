"""Requests/s of an authenticated `GET /api/users/me/` against a bare Django JSON view.

Serves the project with gunicorn (sync workers, production settings, PostgreSQL, Redis) on a free
loopback port, logs a user in through the real login endpoint, then loads both URLs in
alternating slices with the same client processes and prints req/s, latency and the ratio.
"""

import base64
import json
import os
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as `python bench/auth_throughput.py`: make the `bench` package importable.
    sys.path.insert(0, str(ROOT))

from bench import harness, load  # noqa: E402
from bench.harness import BARE_PATH, BASE_HEADERS, expect, http_call  # noqa: E402
from bench.load import Target  # noqa: E402

ME_PATH = "/api/users/me/"
LOGIN_PATH = "/api/auth/login/"
LOGOUT_PATH = "/api/auth/logout/"
TARGET_RATIO = 0.5
BENCH_EMAIL = "bench-user@example.com"
BENCH_USERNAME = "bench-user"
BENCH_TEAM = "Bench team"


def django_prepare(password: str) -> None:
    """Migrate the bench database and (re)create the bench user with `password` and a team."""
    harness.django_setup()
    from django.db import connections

    from accounts.models import CustomUser, Team

    team, _created = Team.objects.get_or_create(name=BENCH_TEAM)
    user = CustomUser.objects.filter(email=BENCH_EMAIL).first()
    if user is None:
        user = CustomUser.objects.create_user(BENCH_EMAIL, BENCH_USERNAME, password, team=team)
    else:
        user.set_password(password)
        user.is_active, user.team = True, team
        user.save()
    # The parent keeps no connection open while gunicorn and the load run.
    connections.close_all()


def login(port: int, password: str) -> dict:
    body = json.dumps({"login": BENCH_EMAIL, "password": password})
    status, raw = http_call(
        port, "POST", LOGIN_PATH, headers={"Content-Type": "application/json"}, body=body
    )
    if status != 200:
        raise RuntimeError(f"login returned {status}: {raw[:300]!r}")
    return json.loads(raw)


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def sanity_check(port: int, auth: dict, session_id: str) -> None:
    """Fail before loading if either URL would not measure what it claims to."""
    from django.core.cache import cache

    from bench.urls import BARE_BODY

    if expect(port, BARE_PATH, 200) != BARE_BODY:
        raise RuntimeError("the bare view returned an unexpected body")
    expect(port, ME_PATH, 401)
    expect(port, ME_PATH, 401, headers={"Authorization": "Bearer not.a.token"})
    if expect(port, ME_PATH, 200, headers=auth)["email"] != BENCH_EMAIL:
        raise RuntimeError("/api/users/me/ answered for another user")
    # Key layout of accounts.auth_cache: a cached verdict means the check runs through Redis.
    if cache.get(f"auth:session:{session_id}") is None:
        raise RuntimeError("no revocation cache entry for the session: check is not via Redis")


def revocation_check(port: int, refresh: str, auth: dict) -> tuple[bool, str]:
    """After logout the very token that was measured must be refused at once."""
    body = json.dumps({"refresh": refresh})
    status, raw = http_call(
        port, "POST", LOGOUT_PATH, headers={"Content-Type": "application/json"}, body=body
    )
    if status != 204:
        return False, f"logout returned {status}: {raw[:200]!r}"
    status, raw = http_call(port, "GET", ME_PATH, headers=auth)
    if status != 401:
        return False, f"the measured token is still accepted after logout ({status})"
    return True, f"after logout the measured token gets 401 {json.loads(raw)['error']['code']}"


def figures(bare: Target, me: Target, ratio: float, valid: bool, revoked: bool) -> list[dict]:
    return [
        {"figure": "bare JsonResponse view, req/s", "value": f"{bare.rps:.0f}"},
        {"figure": "GET /api/users/me/, req/s", "value": f"{me.rps:.0f}"},
        {
            "figure": "me / bare throughput ratio",
            "value": f"{ratio:.2f}",
            "target": f">= {TARGET_RATIO:.2f}",
            "verdict": harness.verdict(ratio >= TARGET_RATIO, valid),
        },
        {
            "figure": "gunicorn CPU per request, me / bare",
            "value": f"{me.cpu_ms_per_request():.2f} / {bare.cpu_ms_per_request():.2f} ms",
        },
        {
            "figure": "GET /api/users/me/ p50 / p99 latency",
            "value": f"{me.percentile_ms(50):.1f} / {me.percentile_ms(99):.1f} ms",
        },
        {
            "figure": "non-2xx/failed responses; token dead after logout",
            "value": f"{bare.errors + me.errors}; {'yes' if revoked else 'NO'}",
            "target": "0; yes",
            "verdict": "PASS" if valid else "FAIL",
        },
    ]


def main() -> int:
    args = harness.parse_args(harness.argument_parser(__doc__.splitlines()[0]))
    env = harness.bench_env(database_url=args.database_url, redis_url=args.redis_url)
    os.environ.update(env)
    password = secrets.token_urlsafe(16)
    harness.database_ensure(args.database_url)
    harness.redis_clear(args.redis_url)
    django_prepare(password)

    plan = load.Plan.from_args(args)
    harness.print_setup(args, plan)
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        harness.gunicorn_server(env, args.workers, Path(tmp) / "gunicorn.log") as server,
    ):
        port = server.port
        session = login(port, password)
        auth = {"Authorization": f"Bearer {session['access']}"}
        sanity_check(port, auth, jwt_claims(session["access"])["sid"])
        bare = Target("bare JsonResponse", BARE_PATH, BASE_HEADERS)
        me = Target("GET /api/users/me/", ME_PATH, {**BASE_HEADERS, **auth})
        with load.client_pool(args.concurrency) as pool:
            load.measure(pool, server, [bare, me], plan)
        revoked, revocation = revocation_check(port, session["refresh"], auth)

    load.print_targets([bare, me])
    valid = revoked and bare.errors == me.errors == 0 and bare.responses > 0 and me.responses > 0
    ratio = me.rps / bare.rps if bare.rps else 0.0
    verdict = ("PASS" if ratio >= TARGET_RATIO else "FAIL") if valid else "INVALID (errors)"
    print(f"ratio me / bare: {ratio:.2f} (target >= {TARGET_RATIO}): {verdict}")
    print(f"revocation: {revocation}")
    harness.write_figures(args.json_out, figures(bare, me, ratio, valid, revoked))
    return 0 if valid else 1


if __name__ == "__main__":
    harness.script_main(main)

"""Requests/s of an authenticated `GET /api/users/me/` against a bare Django JSON view.

Serves the project with gunicorn (sync workers, production settings, PostgreSQL, Redis) on a free
loopback port, logs a user in through the real login endpoint, then loads both URLs in
alternating slices with the same client processes and prints req/s, latency and the ratio.
"""

import base64
import json
import secrets

from bench import harness
from bench.harness import BARE_PATH, BASE_HEADERS, Target, figure
from tools import clients, fixtures
from tools.clients import Client

ME_PATH = "/api/users/me/"
TARGET_RATIO = 0.5
EMAIL = "bench-user@example.com"


@fixtures.closing
def user_create(password: str) -> None:
    """The bench user, with a team (`me` shows it)."""
    from accounts.models import CustomUser, Team

    team = Team.objects.create(name="Bench team")
    CustomUser.objects.create_user(EMAIL, "bench-user", password, team=team)


def expect(client: Client, path: str, status: int, **kwargs) -> dict:
    reply = client.send(path, kwargs.pop("method", "GET"), path, **kwargs)
    if reply.status != status:
        raise RuntimeError(f"{path} returned {reply.summary}, expected {status}: {reply.text}")
    return reply.data


def sanity_check(client: Client, token: str) -> None:
    """Fail before loading if either URL would not measure what it claims to."""
    from django.core.cache import cache

    from bench.urls import BARE_BODY

    if expect(client, BARE_PATH, 200) != BARE_BODY:
        raise RuntimeError("the bare view returned an unexpected body")
    expect(client, ME_PATH, 401)
    expect(client, ME_PATH, 401, token="not.a.token")
    if expect(client, ME_PATH, 200, token=token)["email"] != EMAIL:
        raise RuntimeError("/api/users/me/ answered for another user")
    # Key layout of accounts.auth.cache: a cached verdict means the check runs through Redis.
    payload = token.split(".")[1]
    session = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]
    if cache.get(f"auth:session:{session}") is None:
        raise RuntimeError("no revocation cache entry for the session: check is not via Redis")


def main() -> int:
    args = harness.parse_args(harness.argument_parser(__doc__.splitlines()[0]))
    plan = harness.Plan.from_args(args)
    password = secrets.token_urlsafe(16)
    with harness.served(args) as running:
        user_create(password)
        harness.print_setup(args, plan)
        client = Client(running.gunicorn_ports[0])
        session = expect(client, "/api/auth/login/", 200, method="POST",
                         body={"login": EMAIL, "password": password})  # fmt: skip
        sanity_check(client, session["access"])
        auth = {"Authorization": f"Bearer {session['access']}"}
        bare = Target("bare JsonResponse", BARE_PATH, BASE_HEADERS)
        me = Target("GET /api/users/me/", ME_PATH, {**BASE_HEADERS, **auth})
        with clients.pool(args.concurrency) as pool:
            harness.measure(pool, running, [bare, me], plan)
        # After logout the very token that was measured must be refused at once.
        logout = client.send("logout", "POST", "/api/auth/logout/",
                             body={"refresh": session["refresh"]})  # fmt: skip
        after = client.send("me", "GET", ME_PATH, token=session["access"])
        client.close()

    harness.print_targets([bare, me])
    revoked = logout.status == 204 and after.status == 401
    print(f"logout {logout.summary}, then the measured token gets {after.summary}")
    valid = revoked and bare.errors == me.errors == 0 and bare.responses > 0 and me.responses > 0
    ratio = me.rps / bare.rps if bare.rps else 0.0
    harness.report(args, [
        figure("bare JsonResponse view, req/s", f"{bare.rps:.0f}"),
        figure("GET /api/users/me/, req/s", f"{me.rps:.0f}"),
        figure("me / bare throughput ratio", f"{ratio:.2f}", f">= {TARGET_RATIO:.2f}",
               ratio >= TARGET_RATIO, valid),
        figure("gunicorn CPU per request, me / bare",
               f"{me.cpu_ms():.2f} / {bare.cpu_ms():.2f} ms"),
        figure("GET /api/users/me/ p50 / p99 latency",
               f"{me.percentile_ms(50):.1f} / {me.percentile_ms(99):.1f} ms"),
        figure("non-2xx/failed responses; token dead after logout",
               f"{bare.errors + me.errors}; {'yes' if revoked else 'NO'}", "0; yes", valid),
    ])  # fmt: skip
    return 0 if valid else 1


if __name__ == "__main__":
    harness.script_main(main)

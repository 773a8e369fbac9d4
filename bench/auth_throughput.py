"""Requests/s of an authenticated `GET /api/users/me/` against the true floor (bench/floor/).

One gunicorn (production settings, PostgreSQL, Redis) and the floor's next to it, a user logged
in through the real login endpoint; the floor, our bare view and `me` loaded in alternating slices
by the same client processes.
"""

import base64
import json
import secrets

from bench import harness, load, servers
from bench.harness import expect, figure
from bench.load import BARE_PATH, BASE_HEADERS, Target
from tools import clients, cpu, fixtures
from tools.clients import Client
from tools.procs import script_main

ME_PATH = "/api/users/me/"
TARGET_RATIO = 0.5
EMAIL = "bench-user@example.com"
GROUPS = ("gunicorn", "floor", "postgres", "redis", "clients")


@fixtures.closing
def user_create(password: str) -> None:
    """The bench user, with a team (`me` shows it)."""
    from accounts.models import CustomUser, Team

    team = Team.objects.create(name="Bench team")
    CustomUser.objects.create_user(EMAIL, "bench-user", password, team=team)


def sanity_check(client: Client, token: str) -> None:
    """Fail before loading if either URL would not measure what it claims to."""
    from django.core.cache import cache

    from bench.urls import BARE_BODY

    if expect(client, 200, "GET", BARE_PATH).data != BARE_BODY:
        raise RuntimeError("the bare view returned an unexpected body")
    expect(client, 401, "GET", ME_PATH)
    expect(client, 401, "GET", ME_PATH, token="not.a.token")
    if expect(client, 200, "GET", ME_PATH, token=token).data["email"] != EMAIL:
        raise RuntimeError("/api/users/me/ answered for another user")
    # Key layout of accounts.auth.cache: a cached verdict means the check runs through Redis.
    payload = token.split(".")[1]
    session = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sid"]
    if cache.get(f"auth:session:{session}") is None:
        raise RuntimeError("no revocation cache entry for the session: check is not via Redis")


def main() -> int:
    args = harness.parse_args(harness.argument_parser(__doc__.splitlines()[0]))
    plan = load.Plan.from_args(args)
    password = secrets.token_urlsafe(16)
    with servers.served(args) as running, servers.floor_server(args, running) as floor_port:
        user_create(password)
        harness.print_setup(args, plan, floor_port=floor_port)
        client = Client(running.gunicorn_ports[0])
        login = {"login": EMAIL, "password": password}
        session = expect(client, 200, "POST", "/api/auth/login/", body=login).data
        sanity_check(client, session["access"])
        auth = {"Authorization": f"Bearer {session['access']}"}
        floor = load.floor_target(floor_port)
        bare = Target("bare JsonResponse", BARE_PATH, BASE_HEADERS)
        me = Target("GET /api/users/me/", ME_PATH, {**BASE_HEADERS, **auth})
        targets = [floor, bare, me]
        with clients.pool(args.concurrency) as pool:
            load.measure(pool, running, targets, plan)
        # After logout the very token that was measured must be refused at once.
        logout = client.send("logout", "POST", "/api/auth/logout/",
                             body={"refresh": session["refresh"]})  # fmt: skip
        after = client.send("me", "GET", ME_PATH, token=session["access"])
        client.close()

    load.print_targets(targets)
    rows = [(t.label, t.cpu, t.responses) for t in targets]
    note = "floor: the floor's gunicorn; clients: the load generator"
    share = cpu.print_table(rows, GROUPS, note)
    revoked = logout.status == 204 and after.status == 401
    print(f"logout {logout.summary}, then the measured token gets {after.summary}")
    errors = sum(t.errors for t in targets)
    valid = revoked and errors == 0 and all(t.responses for t in targets)
    ratio = load.ratio(me, floor)
    harness.report(args, [
        *harness.floor_figures(floor, bare),
        figure("GET /api/users/me/, req/s", f"{me.rps:.0f}"),
        figure("me / floor throughput ratio", f"{ratio:.2f}", f">= {TARGET_RATIO:.2f}",
               ratio >= TARGET_RATIO, valid),
        figure("me / bare throughput ratio (the endpoint alone)", f"{load.ratio(me, bare):.2f}"),
        figure("gunicorn CPU per response, me / bare / floor",
               f"{me.cpu_ms():.2f} / {bare.cpu_ms():.2f} / {floor.cpu_ms():.2f} ms"),
        figure("GET /api/users/me/ p50 / p99 latency",
               f"{me.percentile_ms(50):.1f} / {me.percentile_ms(99):.1f} ms"),
        figure("host CPU taken by other processes during the auth run", f"{share:.0%}"),
        figure("non-2xx/failed responses; token dead after logout",
               f"{errors}; {'yes' if revoked else 'NO'}", "0; yes", valid),
    ])  # fmt: skip
    return 0 if valid else 1


if __name__ == "__main__":
    script_main(main)

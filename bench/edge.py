"""Requests/s of an authenticated `GET /api/users/me/` via nginx (HTTPS) against gunicorn direct.

Starts the production shape on loopback with e2e.stack (PostgreSQL, Redis, one gunicorn instance
on production settings, nginx rendered from nginx/templates with a self-signed certificate), logs
a user in through nginx, then loads the same URL through nginx and straight at gunicorn in
alternating slices with the same client processes; their ratio is what the edge costs.
"""

import contextlib
import math
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as `python bench/edge.py`: make the `bench` and `e2e` packages importable.
    sys.path.insert(0, str(ROOT))

from bench import harness, load  # noqa: E402
from bench.harness import BASE_HEADERS  # noqa: E402
from bench.load import Target, Tls  # noqa: E402

# The stack drops and recreates this database, so it is one no other run uses (`make e2e` uses
# e2e_<pid>, the other benchmarks `bench`); Redis DB 14 is likewise nobody else's.
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_edge"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
SHARED_DATABASES = ("postgres", "bench", "e2e")
ME_PATH = "/api/users/me/"
LOGIN_PATH = "/api/auth/login/"
TARGET_RATIO = 0.7
BENCH_EMAIL = "bench-edge@example.com"
BENCH_USERNAME = "bench-edge"
BENCH_TEAM = "Bench edge team"
# The one access token must outlive the start, the warm-up and the load (600 s in production).
ACCESS_TOKEN_LIFETIME_SECONDS = 3600
# Above this share of the host's process CPU used by other work during the load, the run says so.
OTHER_SHARE_WARNING = 0.15
# nginx error log levels that mean a request was or could have been hurt.
SEVERE = ("error", "crit", "alert", "emerg")
CPU_GROUPS = ("gunicorn", "nginx", "postgres", "redis", "clients")
RATE_VIA = "edge: req/s via nginx (HTTPS)"
RATE_DIRECT = "edge: req/s gunicorn direct"
RATIO = "edge: nginx/direct ratio"
ERRORS = "edge: errors"


def user_create(edge, password: str) -> None:
    """The measured user, with a team as in auth_throughput.py (`me` reads it)."""
    edge.manage(
        "shell",
        "--no-imports",
        "-c",
        "from accounts.models import CustomUser, Team;"
        f"team = Team.objects.create(name={BENCH_TEAM!r});"
        f"CustomUser.objects.create_user({BENCH_EMAIL!r}, {BENCH_USERNAME!r}, {password!r},"
        " team=team)",
    )


def login(edge, password: str) -> str:
    reply = edge.request("POST", LOGIN_PATH, body={"login": BENCH_EMAIL, "password": password})
    if reply.status != 200:
        raise RuntimeError(f"login through nginx returned {reply.status}: {reply.body[:300]!r}")
    return reply.json()["access"]


def sanity_check(edge, auth: dict) -> str:
    """Fail before loading if either path would not measure what it claims to; returns a note
    on how gunicorn answers nginx's upstream connections."""
    port = edge.gunicorn_ports[0]
    if (status := edge.request("GET", ME_PATH).status) != 401:
        raise RuntimeError(f"/api/users/me/ through nginx without a token returned {status}")
    via = edge.request("GET", ME_PATH, headers=auth)
    if via.status != 200 or via.json()["email"] != BENCH_EMAIL:
        raise RuntimeError(f"/api/users/me/ through nginx returned {via.status}: {via.body!r}")
    direct = edge.request("GET", ME_PATH, port=port, headers={**BASE_HEADERS, **auth})
    if direct.status != 200 or direct.json() != via.json():
        raise RuntimeError(f"gunicorn direct answered otherwise: {direct.status} {direct.body!r}")
    # Without the header nginx sets, production redirects to HTTPS: the direct load would then
    # measure 301s, which is why it sends X-Forwarded-Proto itself.
    if (status := edge.request("GET", ME_PATH, port=port, headers=auth).status) != 301:
        raise RuntimeError(f"gunicorn without X-Forwarded-Proto returned {status}, not 301")
    if (direct.header("Connection") or "").lower() == "close":
        return (
            "gunicorn's sync workers close every connection (Connection: close), so nginx's "
            "upstream keepalive pool stays empty: each proxied request opens a TCP connection to "
            "gunicorn, as each direct request does"
        )
    return "gunicorn keeps connections open: nginx reuses its upstream connections"


def redis_clear(redis_url: str, prefix: str) -> None:
    """The stack's cache keys (revocation verdicts, throttles) go with the stack."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def nginx_problems(log: str) -> list[str]:
    """nginx's own error lines (an upstream refused or reset, a worker died...)."""
    return [line for line in log.splitlines() if any(f"[{lvl}]" in line for lvl in SEVERE)]


def print_cpu(targets: list[Target]) -> None:
    """Where the host's CPU went per response, from /proc, and how busy the host was."""
    columns = (*CPU_GROUPS, "other", "irq", "busy")
    print(f"{'CPU ms/response':<22}" + "".join(f"{name:>10}" for name in columns))
    for t in targets:
        per = [max(0.0, t.cpu_ms_per_request(name)) for name in CPU_GROUPS]
        other = max(0.0, t.cpu_ms_per_request("host") - sum(per))
        busy = t.cpu["host"] + t.cpu["irq"]
        busy = busy / t.cpu["wall"] / (os.cpu_count() or 1) if t.cpu["wall"] else 0.0
        cells = (*per, other, t.cpu_ms_per_request("irq"))
        print(f"{t.label:<22}" + "".join(f"{v:>10.2f}" for v in cells) + f"{busy:>10.0%}")
    print(
        "  nginx: master and workers; postgres: every backend, other databases' too; clients: "
        "the load generator (TLS included through nginx); other: other processes; irq: kernel "
        "interrupts, mostly loopback TCP; busy: share of all cores"
    )
    share = other_share(targets)
    if share > OTHER_SHARE_WARNING:
        print(
            f"WARNING: other processes took {share:.0%} of the host's process CPU during the "
            "load; the figures are lower than this code on a quiet host"
        )


def other_share(targets: list[Target]) -> float:
    """Share of the host's process CPU during the load that none of the benchmark's used."""
    host = sum(t.cpu["host"] for t in targets)
    ours = sum(t.cpu[name] for t in targets for name in CPU_GROUPS)
    return max(0.0, host - ours) / host if host else 0.0


def own_cpu_ms(target: Target) -> float:
    """CPU per response of every process of the run and the kernel's loopback work: what the
    path costs the host, which other work on it barely moves (unlike req/s)."""
    return sum(max(0.0, target.cpu_ms_per_request(name)) for name in (*CPU_GROUPS, "irq"))


def cpu_ratio(via: Target, direct: Target) -> float:
    """The req/s ratio to expect when the host is CPU-bound and runs nothing else."""
    return own_cpu_ms(direct) / own_cpu_ms(via) if own_cpu_ms(via) else math.nan


def figures(via: Target, direct: Target, ratio: float, errors: int) -> list[dict]:
    valid = errors == 0 and via.responses > 0 and direct.responses > 0
    return [
        {"figure": RATE_VIA, "value": f"{via.rps:.0f}"},
        {"figure": RATE_DIRECT, "value": f"{direct.rps:.0f}"},
        {
            "figure": RATIO,
            "value": f"{ratio:.2f}",
            "target": f">= {TARGET_RATIO:.2f}",
            "verdict": harness.verdict(ratio >= TARGET_RATIO, valid),
        },
        {
            "figure": "edge: p50 / p99 latency, via nginx / direct",
            "value": f"{via.percentile_ms(50):.1f} / {via.percentile_ms(99):.1f} ms, "
            f"{direct.percentile_ms(50):.1f} / {direct.percentile_ms(99):.1f} ms",
        },
        {
            "figure": "edge: nginx CPU per request (HTTPS)",
            "value": f"{via.cpu_ms_per_request('nginx'):.2f} ms",
        },
        {
            "figure": "edge: host CPU per request, via nginx / direct",
            "value": f"{own_cpu_ms(via):.2f} / {own_cpu_ms(direct):.2f} ms "
            f"(direct / via {cpu_ratio(via, direct):.2f})",
        },
        {
            "figure": "edge: client CPU per request, HTTPS / HTTP",
            "value": f"{via.cpu_ms_per_request('clients'):.2f} / "
            f"{direct.cpu_ms_per_request('clients'):.2f} ms",
        },
        {
            "figure": "edge: other processes' share of host CPU during load",
            "value": f"{other_share([via, direct]):.0%}",
        },
        {
            "figure": ERRORS,
            "value": str(errors),
            "target": "0",
            "verdict": harness.verdict(errors == 0),
        },
    ]


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0])
    parser.set_defaults(database_url=DEFAULT_DATABASE_URL, redis_url=DEFAULT_REDIS_URL)
    args = harness.parse_args(parser)
    if urlsplit(args.database_url).path.lstrip("/") in SHARED_DATABASES:
        parser.error("--database-url: the stack drops this database; give it a name of its own")
    # e2e.stack reads both when imported; they keep this run away from a concurrent `make e2e`.
    os.environ["E2E_DATABASE_URL"] = args.database_url
    os.environ["E2E_REDIS_URL"] = args.redis_url
    from e2e.stack import SERVER_NAME, stack

    plan = load.Plan.from_args(args)
    password = secrets.token_urlsafe(16)
    with stack(
        instances=1,
        workers=args.workers,
        ACCESS_TOKEN_LIFETIME_SECONDS=str(ACCESS_TOKEN_LIFETIME_SECONDS),
    ) as edge:
        try:
            user_create(edge, password)
            auth = {"Authorization": f"Bearer {login(edge, password)}"}
            upstream_note = sanity_check(edge, auth)
            gunicorn = edge.processes["gunicorn-0"]
            watched = {
                "nginx": edge.processes["nginx"].pid,
                **harness.service_pids(database_url=args.database_url, redis_url=args.redis_url),
            }
            server = harness.Server(gunicorn.pid, edge.gunicorn_ports[0], watched)
            print(
                f"gunicorn 1 instance x {args.workers} sync workers (config.settings.production) "
                f"behind nginx 1 worker, TLS certificate for {SERVER_NAME}; "
                f"{urlsplit(args.database_url).path.lstrip('/')} on PostgreSQL, "
                f"Redis {args.redis_url}"
            )
            print(
                f"load: {plan.concurrency} client processes (http.client, keep-alive), "
                f"{plan.duration:g} s per path in {plan.slices} alternating slices after "
                f"{plan.warmup:g} s warm-up each; load average before {os.getloadavg()[0]:.2f}"
            )
            print(upstream_note)
            via = Target(
                "via nginx (HTTPS)",
                ME_PATH,
                {"Accept": "application/json", **auth},
                ok_statuses=(200,),
                port=edge.https_port,
                tls=Tls(SERVER_NAME, str(edge.certificate)),
            )
            direct = Target(
                "gunicorn direct",
                ME_PATH,
                {**BASE_HEADERS, **auth},
                ok_statuses=(200,),
            )
            targets = [via, direct]
            with load.client_pool(args.concurrency) as pool:
                load.measure(pool, server, targets, plan)
            problems = nginx_problems(edge.nginx_log())
        finally:
            with contextlib.suppress(Exception):
                redis_clear(args.redis_url, edge.env["CACHE_KEY_PREFIX"])

    load.print_targets(targets)
    print_cpu(targets)
    errors = sum(t.errors + t.errors_in(t.warmup_statuses, t.warmup_failures) for t in targets)
    ratio = via.rps / direct.rps if direct.rps else 0.0
    rows = figures(via, direct, ratio, errors)
    ratio_row = next(row for row in rows if row["figure"] == RATIO)
    print(
        f"ratio via nginx / direct: {ratio:.2f} (target >= {TARGET_RATIO}): {ratio_row['verdict']}"
    )
    print(
        f"nginx CPU per request: {via.cpu_ms_per_request('nginx'):.2f} ms; the edge adds "
        f"{via.percentile_ms(50) - direct.percentile_ms(50):.2f} ms at p50; CPU per response of "
        f"the run's processes and loopback, via nginx / direct: {own_cpu_ms(via):.2f} / "
        f"{own_cpu_ms(direct):.2f} ms (direct / via {cpu_ratio(via, direct):.2f}, "
        "the ratio on a host with nothing else running)"
    )
    if errors:
        print(f"{errors} unexpected or failed responses, warm-up included: the run is INVALID")
    for line in problems[:10]:
        print(f"nginx error log: {line}")
    harness.write_figures(args.json_out, rows)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    harness.script_main(main)

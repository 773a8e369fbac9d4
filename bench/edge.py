"""Requests/s of an authenticated `GET /api/users/me/` via nginx (HTTPS) against gunicorn direct.

tools.stack's production shape with one gunicorn; both paths loaded in alternating slices by the
same client processes: their ratio is what the edge costs.
"""

import math
import secrets

from bench import harness, load
from bench.auth_throughput import EMAIL, ME_PATH, user_create
from bench.harness import figure
from bench.load import BASE_HEADERS, Target
from tools import clients, cpu, fixtures
from tools.procs import script_main
from tools.stack import stack

TARGET_RATIO = 0.7
# nginx error log levels that mean a request was or could have been hurt.
SEVERE = ("error", "crit", "alert", "emerg")
GROUPS = ("gunicorn", "nginx", "postgres", "redis", "clients")


def sanity_check(edge, auth: dict) -> str:
    """Fail before loading if either path would not measure what it claims to; returns a note
    on how gunicorn answers nginx's upstream connections."""
    port = edge.gunicorn_ports[0]
    if (status := edge.request("GET", ME_PATH).status) != 401:
        raise RuntimeError(f"/api/users/me/ through nginx without a token returned {status}")
    via = edge.request("GET", ME_PATH, headers=auth)
    if via.status != 200 or via.json()["email"] != EMAIL:
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


def own_cpu_ms(target: Target) -> float:
    """CPU per response of every process of the run and the kernel's loopback work: what the
    path costs the host, which other work on it barely moves (unlike req/s)."""
    return sum(max(0.0, target.cpu_ms(name)) for name in (*GROUPS, "irq"))


def main() -> int:
    args = harness.parse_args(harness.argument_parser(__doc__.splitlines()[0]))
    plan, password = load.Plan.from_args(args), secrets.token_urlsafe(16)
    # The one access token must outlive the start, the warm-up and the load (600 s in production).
    with stack(instances=1, workers=args.workers, ACCESS_TOKEN_LIFETIME_SECONDS="3600") as edge:
        fixtures.django_setup(edge.env)
        user_create(password)
        body = {"login": EMAIL, "password": password}
        login = edge.request("POST", "/api/auth/login/", body=body)
        if login.status != 200:
            raise RuntimeError(f"login through nginx returned {login.status}: {login.body[:300]!r}")
        auth = {"Authorization": f"Bearer {login.json()['access']}"}
        upstream_note = sanity_check(edge, auth)
        harness.print_setup(args, plan, "config.settings.production, behind nginx 1 worker")
        print(upstream_note)
        https = {"port": edge.https_port, "cafile": str(edge.certificate)}
        via = Target("via nginx (HTTPS)", ME_PATH, {"Accept": "application/json", **auth},
                     ok_statuses=(200,), **https)  # fmt: skip
        direct = Target("gunicorn direct", ME_PATH, {**BASE_HEADERS, **auth}, ok_statuses=(200,))
        with clients.pool(args.concurrency) as pool:
            load.measure(pool, edge, [via, direct], plan)
        log = edge.nginx_log().splitlines()
        problems = [line for line in log if any(f"[{level}]" in line for level in SEVERE)]

    load.print_targets([via, direct])
    rows = [(t.label, t.cpu, t.responses) for t in (via, direct)]
    note = "nginx: master and workers; clients: the load generator (TLS included through nginx)"
    share = cpu.print_table(rows, GROUPS, note)
    errors = via.all_errors + direct.all_errors
    valid = errors == 0 and via.responses > 0 and direct.responses > 0
    ratio = via.rps / direct.rps if direct.rps else 0.0
    cpu_ratio = own_cpu_ms(direct) / own_cpu_ms(via) if own_cpu_ms(via) else math.nan
    print(
        f"the edge adds {via.percentile_ms(50) - direct.percentile_ms(50):.2f} ms at p50; "
        f"direct / via CPU per response {cpu_ratio:.2f} is the ratio on a host with nothing else"
    )
    for line in problems[:10]:
        print(f"nginx error log: {line}")
    harness.report(args, [
        figure("edge: req/s via nginx (HTTPS)", f"{via.rps:.0f}"),
        figure("edge: req/s gunicorn direct", f"{direct.rps:.0f}"),
        figure("edge: nginx/direct ratio", f"{ratio:.2f}", f">= {TARGET_RATIO:.2f}",
               ratio >= TARGET_RATIO, valid),
        figure("edge: p50 / p99 latency, via nginx / direct",
               f"{via.percentile_ms(50):.1f} / {via.percentile_ms(99):.1f} ms, "
               f"{direct.percentile_ms(50):.1f} / {direct.percentile_ms(99):.1f} ms"),
        figure("edge: nginx CPU per request (HTTPS)", f"{via.cpu_ms('nginx'):.2f} ms"),
        figure("edge: host CPU per request, via nginx / direct",
               f"{own_cpu_ms(via):.2f} / {own_cpu_ms(direct):.2f} ms (direct / via "
               f"{cpu_ratio:.2f})"),
        figure("edge: client CPU per request, HTTPS / HTTP",
               f"{via.cpu_ms('clients'):.2f} / {direct.cpu_ms('clients'):.2f} ms"),
        figure("edge: other processes' share of host CPU during load", f"{share:.0%}"),
        figure("edge: errors", errors, "0", errors == 0),
    ])  # fmt: skip
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    script_main(main)

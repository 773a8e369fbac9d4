"""`make faults`: the production stack on loopback (nginx, 2 gunicorn instances, PostgreSQL,
Redis) put through faults under load, each followed by checks of what clients were answered
against what the database holds.

1. kill      SIGKILL of random gunicorn workers during vote and checkout load
2. postgres  PostgreSQL restarted (fast) and stopped for 10 s during load
3. redis     Redis stopped, then frozen: login, revocation, health, throttles

PostgreSQL and Redis are private servers started for the run (servers.py), never the machine's
shared ones. Prints a table per scenario and exits 1 if any invariant failed.

    .venv/bin/python faults/run.py [--only kill,postgres,redis]
"""

import argparse
import contextlib
import importlib
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as `python faults/run.py`: make the project's packages importable.
    sys.path.insert(0, str(ROOT))

from faults import fixture, load, report, servers  # noqa: E402
from faults.client import Endpoint  # noqa: E402
from faults.context import Context  # noqa: E402
from faults.logs import LogWatch  # noqa: E402

INSTANCES, WORKERS = 1, 2
VOTERS, BUYERS = 3200, 400
# As many as the most jobs a scenario runs side by side (scenario 2: 6).
CLIENT_PROCESSES = 6
SCENARIOS = ("kill", "postgres", "redis")


def _scenario(name: str):
    return importlib.import_module(f"faults.scenario_{name}")


def _stack_overrides() -> dict:
    # Production settings refuse the sandbox provider; bench.settings is production plus the
    # sandbox behind BENCH_PAYMENT_SANDBOX=1 (set after production's own check ran), so checkout
    # can be bought through on loopback while everything else stays production.
    return {"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_PAYMENT_SANDBOX": "1"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument(
        "--instances",
        type=int,
        default=INSTANCES,
        help=f"gunicorn instances behind nginx ({INSTANCES}, as docker-compose deploys)",
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    if unknown := set(chosen) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    began = time.monotonic()
    verdicts = {}
    with contextlib.ExitStack() as cleanup:
        postgres, redis = cleanup.enter_context(servers.private_servers())
        # e2e.stack reads these when imported.
        os.environ["E2E_DATABASE_URL"], os.environ["E2E_REDIS_URL"] = postgres.url, redis.url
        from e2e.stack import stack

        running = cleanup.enter_context(
            stack(instances=args.instances, workers=WORKERS, **_stack_overrides())
        )
        fixture.django_setup(running.env)
        data = fixture.prepare(voters=VOTERS, buyers=BUYERS)
        pool = cleanup.enter_context(load.client_pool(CLIENT_PROCESSES))
        print(
            f"private PostgreSQL {postgres.bin_dir.parent.name} on :{postgres.port} (fsync on), "
            f"Redis on :{redis.port}; nginx :{running.https_port} → {args.instances} gunicorn x "
            f"{WORKERS} sync workers (bench.settings: production + sandbox payments); "
            f"{VOTERS} voters, {BUYERS} buyers; ready in {time.monotonic() - began:.0f} s"
        )
        ctx = Context(
            stack=running,
            postgres=postgres,
            redis=redis,
            fixture=data,
            endpoint=Endpoint(running.https_port, str(running.certificate)),
            pool=pool,
            workers=WORKERS,
        )
        logs = LogWatch(running)
        for name in chosen:
            checks = _scenario(name).run(ctx)
            verdicts[name] = report.print_checks(checks)
            logs.print_news()
    summary = ", ".join(f"{name} {'PASS' if ok else 'FAIL'}" for name, ok in verdicts.items())
    print(f"\nfaults: {summary} in {time.monotonic() - began:.0f} s")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    # SIGTERM and Ctrl-C unwind the ExitStack: clients, gunicorn, nginx and servers stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        sys.exit(130)

"""`make faults`: the production stack on loopback (nginx, gunicorn, private PostgreSQL and Redis)
put through faults under load, each followed by checks of what clients were answered against what
the database holds.

1. kill      SIGKILL of random gunicorn workers during vote and checkout load
2. postgres  PostgreSQL restarted (fast) and stopped for 10 s during load
3. redis     Redis stopped, then frozen: login, revocation, health, throttles
4. chat      Redis restarted while 50 clients chat over WebSocket (two ASGI instances)
5. video     the Celery worker killed mid-transcode, the broker down during an upload, the
             object store down (uploads are on a private SeaweedFS throughout)

Prints a table per scenario and exits 1 if any invariant failed.

    .venv/bin/python -m faults.run [--only kill,postgres,redis,chat,video]
"""

import argparse
import contextlib
import importlib
import time

from faults.context import Context, LogWatch
from faults.scenario_redis import ACCOUNT_EMAIL, ACCOUNT_PASSWORD
from tools import clients, fixtures
from tools.flows import Ballot, Buyer
from tools.procs import script_main
from tools.stack import stack

INSTANCES, WORKERS = 1, 2
VOTERS, BUYERS, COURSES, CANDIDATES = 3200, 400, 10, 4
# As many as the most jobs a scenario runs side by side (scenario 2: 6).
CLIENT_PROCESSES = 6
SCENARIOS = ("kill", "postgres", "redis", "chat", "video")
# A video left processing is queued again after this many seconds without a heartbeat, looked
# for this often (production: 180, 60, a beat every 30 s), so the video scenario need not wait
# minutes for beat's requeue.
VIDEO_REQUEUE = {
    "VIDEO_REQUEUE_AFTER_SECONDS": "5",
    "VIDEO_REQUEUE_EVERY_SECONDS": "2",
    "VIDEO_HEARTBEAT_SECONDS": "1",
}
# Production settings refuse the sandbox provider; bench.settings is production plus the sandbox
# behind BENCH_PAYMENT_SANDBOX=1 (set after production's own check ran), so checkout can be
# bought through on loopback while everything else stays production.
SANDBOX = {"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_PAYMENT_SANDBOX": "1"}


@fixtures.closing
def prepare() -> tuple[int, list, list]:
    """An open poll with voters that each hold an access token, published courses with buyers
    that each hold one, and an account with a password for the Redis scenario."""
    from accounts.models import CustomUser

    poll_id, candidates = fixtures.open_poll("Faults poll", CANDIDATES)
    courses = fixtures.courses("Faults course", COURSES, 30_000)
    CustomUser.objects.create_user(
        email=ACCOUNT_EMAIL, username="faults-account", password=ACCOUNT_PASSWORD
    )
    ballots = fixtures.holders(Ballot, "faults-voter-", VOTERS, candidates, "faults/run.py")
    return (
        poll_id,
        ballots,
        fixtures.holders(Buyer, "faults-buyer-", BUYERS, courses, "faults/run.py"),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    instances_help = f"gunicorn instances behind nginx ({INSTANCES}, as docker-compose deploys)"
    parser.add_argument("--instances", type=int, default=INSTANCES, help=instances_help)
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    if unknown := set(chosen) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")

    began = time.monotonic()
    verdicts = {}
    with contextlib.ExitStack() as cleanup:
        running = cleanup.enter_context(
            stack(
                instances=args.instances,
                workers=WORKERS,
                object_store=True,
                **VIDEO_REQUEUE,
                **SANDBOX,
            )
        )
        fixtures.django_setup(running.env)
        poll_id, ballots, buyers = prepare()
        pool = cleanup.enter_context(clients.pool(CLIENT_PROCESSES))
        print(
            f"private PostgreSQL {running.postgres.bin_dir.parent.name} on "
            f":{running.postgres.port} (fsync on), Redis on :{running.redis.port}; nginx "
            f":{running.https_port} → {args.instances} gunicorn x {WORKERS} sync workers "
            f"(bench.settings: production + sandbox payments); {VOTERS} voters, {BUYERS} buyers; "
            f"ready in {time.monotonic() - began:.0f} s"
        )
        ctx = Context(running, poll_id, ballots, buyers, pool, WORKERS)
        logs = LogWatch(running)
        for name in chosen:
            checks = importlib.import_module(f"faults.scenario_{name}").run(ctx)
            verdicts[name] = fixtures.print_checks(checks)
            logs.print_news()
    summary = ", ".join(f"{name} {'PASS' if ok else 'FAIL'}" for name, ok in verdicts.items())
    print(f"\nfaults: {summary} in {time.monotonic() - began:.0f} s")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    script_main(main)  # SIGTERM and Ctrl-C unwind the ExitStack: everything started stops

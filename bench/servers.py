"""The servers the gunicorn benchmarks measure: the stack (tools.stack's without nginx, one
gunicorn of sync workers on `bench.settings`), the true floor next to it (`floor_server`) or a
second gunicorn of ours with other settings (`second_server`). Nothing here imports Django at
module level: client processes import the benchmark scripts, which import this module."""

import contextlib
import functools
import secrets
import sys

from bench.floor import SETTINGS as FLOOR_SETTINGS
from bench.floor import WSGI_APP as FLOOR_WSGI_APP
from bench.floor import server as floor_serving
from bench.load import BARE_PATH, BASE_HEADERS
from tools import app, fixtures
from tools.procs import server_port, stop, wait_until
from tools.stack import stack


@contextlib.contextmanager
def served(args, **overrides: str):
    """The stack with one gunicorn of `args.workers` sync workers, and Django set up in this
    process on its database; `overrides` are environment variables for Django."""
    settings = {"DJANGO_SETTINGS_MODULE": "bench.settings", **overrides}
    with stack(instances=1, workers=args.workers, with_nginx=False, **settings) as running:
        fixtures.django_setup(running.env)
        yield running


@contextlib.contextmanager
def floor_server(args, running):
    """The true floor (bench/floor/: Django, CommonMiddleware, one JSON view; nothing of ours)
    on its own loopback port, served as our application is (the same gunicorn command line,
    `args.workers` sync workers, the stack's environment but for the settings module); yields
    its port once it answers. Its processes are the CPU group "floor" while it runs."""
    env = {**running.env, "DJANGO_SETTINGS_MODULE": FLOOR_SETTINGS,
           "BENCH_FLOOR_SECRET_KEY": secrets.token_urlsafe(50)}  # fmt: skip
    with _gunicorn_beside(args, running, "floor", env, _floor_ready, app=FLOOR_WSGI_APP) as port:
        yield port


def _floor_ready(port: int) -> bool:
    if not floor_serving.answers(port, BASE_HEADERS):
        return False
    # Our URLs must not be there: it is another project, not ours on another port.
    if (status := floor_serving.get(port, BARE_PATH, BASE_HEADERS)[0]) != 404:
        raise RuntimeError(f"the floor answered {status} for {BARE_PATH}, not 404")
    return True


@contextlib.contextmanager
def second_server(args, running, group: str, **overrides: str):
    """Another gunicorn of ours on the stack (its database and Redis, the same command line and
    environment but for `overrides`) on its own loopback port; yields the port once it is
    healthy. Its processes are the CPU group `group` while it runs."""
    with _gunicorn_beside(args, running, group, {**running.env, **overrides}, app.healthy) as port:
        yield port


@contextlib.contextmanager
def _gunicorn_beside(args, running, group: str, env: dict, ready, **gunicorn_options):
    """`tools.app.gunicorn` with `env` on a free port, sampled as `group`, until `ready(port)`
    (its log's tail on stderr if it never is); stopped on the way out."""
    port, log = server_port(), running.run_dir / "logs" / f"{group}.log"
    process = app.gunicorn(env, port, log, workers=args.workers, **gunicorn_options)
    running.processes[group] = process
    try:
        try:
            wait_until(functools.partial(ready, port), f"starting {group}", {group: process})
        except RuntimeError:
            print(*log.read_text(errors="replace").splitlines()[-30:], sep="\n", file=sys.stderr)
            raise
        yield port
    finally:
        stop({group: process})
        running.processes.pop(group, None)


def tokens_outlive(seconds: float) -> None:
    """Refuse a load that would outlast the access tokens just prepared (with a minute spare)."""
    from django.conf import settings

    if seconds + 60 > settings.ACCESS_TOKEN_LIFETIME.total_seconds():
        raise RuntimeError("the access tokens expire before the load ends: shorten --duration")

"""Where one request's time goes: a per-request cost table of the hot paths, in process.

Requests go through Django's WSGI handler in this process (no socket, no gunicorn) on
`bench.settings` with the run's PostgreSQL and Redis, and each part is timed on its own:
every middleware's own time (a time stamp between each two), the view (DRF's dispatch) and
within it authentication, cache round trips, SQL, serialisation and rendering. The true floor
(bench/floor/) is timed the same way in a process of its own. What the table cannot show is
gunicorn's share (accepting, parsing, the connection per request): the req/s scripts include it,
so their ratios are lower than these.

    .venv/bin/python -m bench.profile_requests [--requests 2000] [--cprofile me]
"""

import argparse
import cProfile
import functools
import itertools
import json
import pstats
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from tools.app import PROXIED
from tools.procs import ROOT, script_main

HOST_HEADERS = {"HTTP_HOST": "127.0.0.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80"}
FORWARDED = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in PROXIED.items()}
# The slowest share of requests (a GC pause, a context switch) is left out of every mean.
TRIM = 0.05
ROUNDS = 5
# Each part's own time: "DRF view" is APIView.dispatch less the parts it calls.
PARTS = ("DRF view", "authentication", "near cache", "cache", "sql", "serialisation", "rendering")

_record: dict[str, float] = defaultdict(float)
# The timed parts running now, innermost last: [part, began, time of timed parts inside it].
_active: list[list] = []


class _Stamp:
    """Placed before every middleware: the time at which the request reached it, and at which
    its response came back."""

    index = 0

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _record[f"in{self.index}"] = time.perf_counter()
        response = self.get_response(request)
        _record[f"out{self.index}"] = time.perf_counter()
        return response


def _stamp_class(index: int) -> str:
    name = f"Stamp{index}"
    globals()[name] = type(name, (_Stamp,), {"index": index})
    return f"{__name__}.{name}"


def _timed(part: str, function):
    """`function` timed as `part`, less the time of other timed parts it calls (each part's
    own time, so that the parts add up); a part inside itself counts once."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if _active and _active[-1][0] == part:
            return function(*args, **kwargs)
        _active.append([part, time.perf_counter(), 0.0])
        try:
            return function(*args, **kwargs)
        finally:
            _, began, inner = _active.pop()
            elapsed = time.perf_counter() - began
            _record[part] += elapsed - inner
            _record[f"{part} (count)"] += 1
            if _active:
                _active[-1][2] += elapsed

    return wrapper


def _instrument() -> None:
    """Wrap the parts of our stack that the table names (nothing else is changed)."""
    from django.db import connection
    from rest_framework import renderers, serializers, views

    from accounts.auth.authentication import SessionJWTAuthentication
    from core import near_cache
    from core.cache import RedisCache
    from core.renderers import JSONRenderer

    views.APIView.dispatch = _timed("DRF view", views.APIView.dispatch)
    auth = SessionJWTAuthentication
    auth.authenticate = _timed("authentication", auth.authenticate)
    for method in ("get", "get_many", "set", "add", "set_many", "delete_many", "incr", "delete"):
        setattr(RedisCache, method, _timed("cache", getattr(RedisCache, method)))
    for cls in (serializers.Serializer, serializers.ListSerializer):
        cls.data = property(_timed("serialisation", cls.data.fget))
    near_cache.get_many = _timed("near cache", near_cache.get_many)
    for write in ("announce", "delete_many", "version_bump"):  # round trips of their own
        setattr(near_cache, write, _timed("cache", getattr(near_cache, write)))
    renderers.JSONRenderer.render = _timed("rendering", renderers.JSONRenderer.render)
    JSONRenderer.render = _timed("rendering", JSONRenderer.render)
    connection.execute_wrappers.append(lambda execute, *args: _timed("sql", execute)(*args))


def _handler(middleware: list[str]):
    """Django's WSGI handler with a stamp before every middleware and one before the URL
    resolution (the last)."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    stamped = []
    for index, path in enumerate([*middleware, None]):
        stamped.append(_stamp_class(index))
        if path:
            stamped.append(path)
    settings.MIDDLEWARE = stamped
    return WSGIHandler()


def _environ(path: str, headers: dict, body: dict | None = None) -> dict:
    from django.test import RequestFactory

    factory = RequestFactory()
    request = factory.get(path) if body is None else factory.post(path, body, "application/json")
    environ = {**request.environ, **HOST_HEADERS, **FORWARDED}
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    return environ


def _one(handler, environ: dict, status: int) -> dict[str, float]:
    _record.clear()
    began = time.perf_counter()
    response = handler(environ, lambda *args: None)
    b"".join(response)
    response.close()
    total = time.perf_counter() - began
    if response.status_code != status:
        raise RuntimeError(f"{environ['PATH_INFO']} answered {response.status_code}")
    return {"total": total, **_record}


def _parts(sample: dict[str, float], names: list[str]) -> dict[str, float]:
    """The sample's own time of each middleware and of each timed part, and the rest."""
    parts = {}
    last = len(names)
    for index, name in enumerate(names):
        before = sample[f"in{index + 1}"] - sample[f"in{index}"]
        after = sample[f"out{index}"] - sample[f"out{index + 1}"]
        parts[f"middleware: {name.rsplit('.', 1)[-1]}"] = before + after
    timed = 0.0
    for part in PARTS:
        parts[part] = sample.get(part, 0.0)
        parts[f"{part} (count)"] = sample.get(f"{part} (count)", 0.0)
        timed += parts[part]
    resolved = sample[f"out{last}"] - sample[f"in{last}"]
    parts["URL resolution, handler, other view code"] = resolved - timed
    parts["WSGI handler outside the middleware"] = sample["total"] - (
        sample["out0"] - sample["in0"]
    )
    parts["total"] = sample["total"]
    return parts


def _round(handler, names, endpoint: "Endpoint", requests: int) -> dict[str, float]:
    samples = [
        _parts(_one(handler, endpoint.environ(), endpoint.status), names) for _ in range(requests)
    ]
    samples.sort(key=lambda sample: sample["total"])
    kept = samples[: max(1, int(len(samples) * (1 - TRIM)))]
    return {
        key: sum(s[key] for s in kept) / len(kept) * (1 if "(count)" in key else 1e6)
        for key in kept[0]
    }


def warm_up_count(requests: int) -> int:
    return max(50, requests // 10)


def measure(handler, names, endpoint: "Endpoint", requests: int) -> dict[str, float]:
    """Mean microseconds per request of each part (counts: per request), slowest trimmed, in
    the quickest of ROUNDS rounds: as timeit advises, the one the host disturbed least."""
    for _ in range(warm_up_count(requests)):
        _one(handler, endpoint.environ(), endpoint.status)
    rounds = [_round(handler, names, endpoint, max(1, requests // ROUNDS)) for _ in range(ROUNDS)]
    return min(rounds, key=lambda parts: parts["total"])


@dataclass
class Endpoint:
    """What one column measures: the WSGI environ of each request (a vote needs a new voter
    each time), the status it must answer and the settings it runs under."""

    environ: Callable[[], dict]
    status: int = 200
    overrides: dict = field(default_factory=dict)

    @classmethod
    def get(cls, path: str, headers: dict | None = None, **overrides) -> "Endpoint":
        return cls(functools.partial(_environ, path, headers or {}), overrides=overrides)


# --- The floor, in a process of its own --------------------------------------------------------


def floor_main(requests: int) -> None:
    import os

    from bench.floor import FLOOR_PATH, SETTINGS

    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    import django
    from django.conf import settings

    django.setup()
    names = list(settings.MIDDLEWARE)
    handler = _handler(names)
    print(json.dumps(measure(handler, names, Endpoint.get(FLOOR_PATH), requests)))


def floor_profile(requests: int) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.profile_requests", "--floor", str(requests)]
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.splitlines()[-1])


# --- Our endpoints ------------------------------------------------------------------------------


def prepare(requests: int) -> dict[str, Endpoint]:
    """The measured endpoints by label, with their data (cold: the catalogue cache off, as on the
    first read after a write; vote: each request a distinct voter's first vote, with a fresh
    session, as `bench.votes` sends them)."""
    from accounts.auth.services import ClientInfo, auth_session_start
    from accounts.models import CustomUser, Team
    from bench import catalogue
    from tools import fixtures

    team = Team.objects.create(name="Profile team")
    user = CustomUser.objects.create_user("profile@example.com", "profile", "x" * 20, team=team)
    access = auth_session_start(user=user, client=ClientInfo(user_agent="profile", ip="127.0.0.1"))
    poll_id, _ = fixtures.open_poll("Profile poll", 20)
    catalogue.catalogue_create(50)
    course = f"/api/courses/{_first_course_id()}/"
    bearer = {"Authorization": f"Bearer {access[1].access}"}
    cold = {"CATALOGUE_CACHE_SECONDS": 0}
    return {
        "bare": Endpoint.get("/bench/bare/"),
        "me": Endpoint.get("/api/users/me/", bearer),
        "poll results": Endpoint.get(f"/api/polls/{poll_id}/results/"),
        "list warm": Endpoint.get(catalogue.LIST_PATH),
        "list cold": Endpoint.get(catalogue.LIST_PATH, **cold),
        "detail warm": Endpoint.get(course),
        "detail cold": Endpoint.get(course, **cold),
        "vote": _votes(requests),
    }


def _votes(requests: int) -> Endpoint:
    """Each call the next voter's first vote, for the poll's candidates in turn."""
    from tools import fixtures

    needed = warm_up_count(requests) + requests + (requests if "--cprofile" in sys.argv else 0)
    poll_id, choices = fixtures.open_poll("Profile votes poll", 5)
    tokens = iter(fixtures.tokens(fixtures.users("profile-voter-", needed), "profile"))
    fixtures.analyze()
    path, turn = f"/api/polls/{poll_id}/votes/", itertools.cycle(choices)

    def environ() -> dict:
        bearer = {"Authorization": f"Bearer {next(tokens)}"}
        return _environ(path, bearer, {"candidate": next(turn)})

    return Endpoint(environ, status=201)


def _first_course_id() -> int:
    from courses.models import Course

    return Course.objects.order_by("-created_at", "id").values_list("pk", flat=True)[0]


def print_table(columns: dict[str, dict[str, float]]) -> None:
    rows = list(dict.fromkeys(key for column in columns.values() for key in column))
    width = max(len(row) for row in rows) + 2
    print(f"{'microseconds per request (counts: per request)':<{width}}", end="")
    print("".join(f"{label:>14}" for label in columns))
    for row in rows:
        values = [column.get(row) for column in columns.values()]
        if not any(values):
            continue
        cells = "".join(
            f"{'-' if v is None else (f'{v:.1f}' if '(count)' in row else f'{v:.0f}'):>14}"
            for v in values
        )
        print(f"{row:<{width}}{cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--cprofile", metavar="LABEL", help="also print cProfile's top functions")
    parser.add_argument("--sort", default="tottime", help="cProfile's order (tottime)")
    parser.add_argument("--top", type=int, default=40, help="cProfile's lines (40)")
    parser.add_argument("--only", help="measure only these columns, comma-separated")
    parser.add_argument("--floor", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor_main(args.floor)
        return 0

    from tools import fixtures
    from tools.stack import stack

    columns = {"floor": floor_profile(args.requests)}
    with stack(instances=0, with_nginx=False, DJANGO_SETTINGS_MODULE="bench.settings") as running:
        fixtures.django_setup(running.env)
        from django.conf import settings
        from django.test import override_settings

        endpoints = prepare(args.requests)
        names = list(settings.MIDDLEWARE)
        _instrument()
        handler = _handler(names)
        chosen = args.only.split(",") if args.only else list(endpoints)
        for label in chosen:
            endpoint = endpoints[label]
            with override_settings(**endpoint.overrides):
                columns[label] = measure(handler, names, endpoint, args.requests)
        if args.cprofile:
            endpoint = endpoints[args.cprofile]
            with override_settings(**endpoint.overrides):
                profiler = cProfile.Profile()
                for _ in range(args.requests):
                    environ = endpoint.environ()
                    profiler.enable()
                    _one(handler, environ, endpoint.status)
                    profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    print_table(columns)
    return 0


if __name__ == "__main__":
    script_main(main)

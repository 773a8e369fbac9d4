"""Where `GET /api/users/me/` spends its time, next to the bare view, without HTTP in between.

Calls the WSGI application in-process with the settings and services of auth_throughput.py
(PostgreSQL, Redis, revocation on) and prints the per-request cost of bare Django, bare DRF and
`me`, where inside `me` the time goes, its SQL, and a cProfile summary.
"""

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import secrets
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wsgi_environ(path: str, headers: dict, method: str = "GET") -> dict:
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_ACCEPT": "application/json",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        # WSGI passes Content-Type without the HTTP_ prefix (Content-Length: see call()).
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    return environ


def call(app, path: str, headers: dict, method: str = "GET", body: bytes = b"") -> int:
    statuses = []
    environ = wsgi_environ(path, headers, method)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    response = app(environ, lambda status, _headers, *_: statuses.append(status))
    b"".join(response)
    response.close()
    return int(statuses[0].split()[0])


@contextlib.contextmanager
def instrumented(spots: list[tuple], clock=time.perf_counter):
    """Temporarily wrap each (owner, attribute) to add its time to `totals[label]`.

    Wall time by default; `clock=time.process_time` counts this process's CPU instead.
    """
    totals = Counter()
    saved = []
    for owner, attr, label in spots:
        original = getattr(owner, attr)
        saved.append((owner, attr, original, attr in vars(owner)))

        def timed(*args, _original=original, _label=label, **kwargs):
            began = clock()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_label] += clock() - began

        setattr(owner, attr, timed)
    try:
        yield totals
    finally:
        for owner, attr, original, own in reversed(saved):
            if own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)


def per_request_us(fn, repeat: int) -> float:
    """Median of `repeat` calls, in microseconds."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per URL (2000)")
    parser.add_argument("--top", type=int, default=25, help="cProfile rows to print (25)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.auth_throughput import BENCH_EMAIL, ME_PATH, django_prepare
    from bench.harness import (
        BARE_PATH,
        DEFAULT_DATABASE_URL,
        DEFAULT_REDIS_URL,
        DRF_PATH,
        bench_env,
        database_ensure,
        redis_clear,
    )

    os.environ.update(bench_env(database_url=DEFAULT_DATABASE_URL, redis_url=DEFAULT_REDIS_URL))
    password = secrets.token_urlsafe(16)
    database_ensure(DEFAULT_DATABASE_URL)
    redis_clear(DEFAULT_REDIS_URL)
    django_prepare(password)

    # Django is configured by django_prepare(); these imports need it.
    from django.core.cache import cache
    from django.core.wsgi import get_wsgi_application
    from django.db import connection, connections
    from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
    from rest_framework_simplejwt.authentication import JWTAuthentication

    from accounts import authentication
    from accounts.apis.users import MeApi
    from accounts.serializers import CurrentUserSerializer
    from accounts.services import ClientInfo, user_login

    app = get_wsgi_application()
    _user, pair = user_login(login=BENCH_EMAIL, password=password, client=ClientInfo())
    auth = {"Authorization": f"Bearer {pair.access}"}
    for _ in range(200):
        assert call(app, ME_PATH, auth) == 200
        assert call(app, BARE_PATH, {}) == 200

    bare_us = per_request_us(lambda: call(app, BARE_PATH, {}), args.requests)
    drf_us = per_request_us(lambda: call(app, DRF_PATH, {}), args.requests)
    me_us = per_request_us(lambda: call(app, ME_PATH, auth), args.requests)
    print(f"in-process WSGI call (no HTTP, no gunicorn), median of {args.requests}:")
    print(f"  bare Django view         {bare_us:7.0f} us")
    print(f"  bare DRF APIView         {drf_us:7.0f} us   (+{drf_us - bare_us:.0f} us DRF itself)")
    print(f"  GET /api/users/me/       {me_us:7.0f} us   (+{me_us - drf_us:.0f} us over bare DRF)")
    print(f"  in-process ratio bare / me = {bare_us / me_us:.2f}")

    print(f"inside one GET /api/users/me/, mean per request over {args.requests}:")
    spots = [
        (JWTAuthentication, "authenticate", "authentication (DRF initial)"),
        (JWTAuthentication, "get_validated_token", "  JWT decode + HS256 check"),
        (authentication, "authenticated_user", "  session + user: one Redis MGET (auth_cache)"),
        (type(connections["default"]), "is_usable", "    CONN_HEALTH_CHECKS SELECT 1"),
        (MeApi, "get", "MeApi.get: serializer and what it loads"),
        (CurrentUserSerializer, "to_representation", "  CurrentUserSerializer rendering"),
        (ForwardManyToOneDescriptor, "get_object", "  team SELECT (lazy user.team, cold cache)"),
    ]
    with instrumented(spots) as totals:
        began = time.perf_counter()
        for _ in range(args.requests):
            call(app, ME_PATH, auth)
        total = time.perf_counter() - began
    for _owner, _attr, label in spots:
        print(f"  {totals[label] * 1e6 / args.requests:7.0f} us  {label}")
    rest = total - totals[spots[0][2]] - totals[spots[4][2]]
    print(f"  {rest * 1e6 / args.requests:7.0f} us  the rest: middleware, DRF dispatch, rendering")
    print(f"  {total * 1e6 / args.requests:7.0f} us  whole request")

    queries = []

    def record(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - began) * 1e6, sql))

    with connection.execute_wrapper(record):
        call(app, ME_PATH, auth)
    print("SQL of one GET /api/users/me/ (time in cursor.execute; SELECT 1 not shown):")
    for us, sql in queries:
        print(f"  {us:7.0f} us  {sql[:120]}")
    # Django's RedisCache builds a new redis.Redis client object for every cache call.
    client_us = per_request_us(cache._cache.get_client, 1000)
    print(f"building redis.Redis(connection_pool=...) per cache call: {client_us:.0f} us")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.requests):
        call(app, ME_PATH, auth)
    profiler.disable()
    executes = sum(
        calls
        for (_file, _line, name), (_cc, calls, *_rest) in pstats.Stats(profiler).stats.items()
        if "psycopg2" in name and "execute" in name
    )
    print(f"psycopg2 cursor.execute per request: {executes / args.requests:.1f}")
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(args.top)
        print(f"cProfile of {args.requests} GET /api/users/me/, sorted by {key}:")
        print(out.getvalue().split("\n", 6)[-1].rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())

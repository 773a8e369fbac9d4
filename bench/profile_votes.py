"""Where poll results and vote casting spend their time, in-process, without HTTP in between.

Prepares the fixture of votes.py (a poll with 20 candidates and 10,000 votes, an empty open poll,
one session and token per voter) and calls the WSGI application directly: per-request cost next
to the bare view, a per-step split, the SQL of one request, and a cProfile summary of each.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import harness  # noqa: E402
from bench.profile_me import call, instrumented, per_request_us  # noqa: E402
from bench.votes_fixture import ballots, django_prepare, results_path, votes_path  # noqa: E402

JSON = {"Content-Type": "application/json"}


def cpu_per_request_us(fn, repeat: int) -> float:
    """Mean CPU time of this process per call: unlike wall time, other load barely moves it."""
    began = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - began) / repeat * 1e6


def split(label: str, spots: list[tuple], run, requests: int) -> None:
    """Mean wall and CPU time per request in each wrapped function, over `requests` runs each."""
    totals = {}
    for name, clock in (("wall", time.perf_counter), ("cpu", time.process_time)):
        with instrumented(spots, clock) as spent:
            began = clock()
            for i in range(requests):
                run(i)
            spent["whole request"] = clock() - began
        totals[name] = spent
    print(f"inside one {label}, mean per request over {requests} (wall / CPU of this process):")
    for _owner, _attr, name in [*spots, (None, None, "whole request")]:
        wall, cpu = (totals[kind][name] * 1e6 / requests for kind in ("wall", "cpu"))
        print(f"  {wall:7.0f} / {cpu:5.0f} us  {name}")


def sql_of(label: str, run) -> None:
    from django.db import connection

    queries = []

    def record(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - began) * 1e6, sql))

    with connection.execute_wrapper(record):
        run()
    print(f"SQL of one {label} (time in cursor.execute):")
    for us, sql in queries:
        print(f"  {us:7.0f} us  {sql[:130]}")


def profile(label: str, run, requests: int, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(requests):
        run(i)
    profiler.disable()
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        print(f"cProfile of {requests} {label}, sorted by {key}:")
        print(out.getvalue().split("\n", 6)[-1].rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per step (2000)")
    parser.add_argument("--top", type=int, default=25, help="cProfile rows to print (25)")
    args = parser.parse_args()

    database_url, redis_url = harness.DEFAULT_DATABASE_URL, harness.DEFAULT_REDIS_URL
    os.environ.update(harness.bench_env(database_url=database_url, redis_url=redis_url))
    harness.database_ensure(database_url)
    harness.redis_clear(redis_url)
    # Warm-up, median, CPU, split (twice), SQL and cProfile each cast their own votes.
    warm = 200
    fixture = django_prepare(
        voters=warm + 5 * args.requests + 1,
        results_votes=10_000,
        results_candidates=20,
        choices=5,
    )

    # Django is configured by django_prepare(); these imports need it.
    from django.core.wsgi import get_wsgi_application
    from django.db import connections
    from django.db.backends.utils import CursorWrapper
    from django.db.models.sql.compiler import SQLCompiler, SQLInsertCompiler
    from redis import Redis
    from rest_framework.renderers import JSONRenderer
    from rest_framework_simplejwt.authentication import JWTAuthentication

    from accounts import auth_cache, authentication
    from votes import results_cache, services
    from votes.apis import polls as apis
    from votes.serializers import ResultsSerializer, VoteSerializer

    app = get_wsgi_application()
    results_url = results_path(fixture.results_poll_id)
    votes_url = votes_path(fixture.votes_poll_id)
    voters = iter(ballots(fixture))

    def get_results(_i=0) -> None:
        assert call(app, results_url, {}) == 200

    def cast_vote(_i=0) -> None:
        auth, body = next(voters)
        assert call(app, votes_url, {**JSON, **auth}, "POST", body) == 201

    def bare(_i=0) -> None:
        assert call(app, harness.BARE_PATH, {}) == 200

    for _ in range(warm):
        bare()
        get_results()
        cast_vote()

    bare_us = per_request_us(bare, args.requests)
    drf_us = per_request_us(lambda: call(app, harness.DRF_PATH, {}), args.requests)
    results_us = per_request_us(get_results, args.requests)
    vote_us = per_request_us(cast_vote, args.requests)
    cpu = {
        "bare": cpu_per_request_us(bare, args.requests),
        "results": cpu_per_request_us(get_results, args.requests),
        "vote": cpu_per_request_us(cast_vote, args.requests),
    }
    print(
        f"in-process WSGI call (no HTTP, no gunicorn), wall median / mean CPU of {args.requests}:"
    )
    print(f"  bare Django view         {bare_us:7.0f} / {cpu['bare']:5.0f} us")
    print(f"  bare DRF APIView         {drf_us:7.0f} us")
    print(f"  GET results              {results_us:7.0f} / {cpu['results']:5.0f} us")
    print(f"  POST vote (cold user)    {vote_us:7.0f} / {cpu['vote']:5.0f} us")

    # Totals across the request, outside the per-function lines: nested in them, not added.
    plumbing = [
        (SQLCompiler, "execute_sql", "all ORM SELECT/UPDATE: build, compile, run, fetch"),
        (SQLInsertCompiler, "execute_sql", "all ORM INSERT"),
        (CursorWrapper, "_execute", "  of which cursor.execute (the database round trip)"),
        (type(connections["default"]), "commit", "COMMIT"),
        (Redis, "execute_command", "all Redis commands"),
    ]
    split(
        "GET results",
        [
            *plumbing,
            (results_cache, "_compute", "results_cache._compute (cache miss: poll + candidates)"),
            (ResultsSerializer, "to_representation", "ResultsSerializer rendering to dicts"),
            (JSONRenderer, "render", "JSONRenderer.render (dicts to bytes)"),
        ],
        get_results,
        args.requests,
    )
    split(
        "POST vote",
        [
            *plumbing,
            (JWTAuthentication, "authenticate", "authentication (DRF initial)"),
            (JWTAuthentication, "get_validated_token", "  JWT decode + HS256 (new token each)"),
            (authentication, "authenticated_user", "  auth_cache.authenticated_user"),
            (auth_cache, "_cold_user", "    session + user SELECT (cold cache)"),
            (apis.VoteCastApi.InputSerializer, "is_valid", "InputSerializer.is_valid"),
            (services, "vote_cast", "services.vote_cast"),
            (VoteSerializer, "to_representation", "VoteSerializer rendering"),
        ],
        cast_vote,
        args.requests,
    )
    sql_of("GET results", get_results)
    sql_of("POST vote", cast_vote)
    profile("GET results", get_results, args.requests, args.top)
    profile("POST vote", cast_vote, args.requests, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())

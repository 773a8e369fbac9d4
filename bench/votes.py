"""Poll results and vote casting on gunicorn, against the bare Django view in the same run.

Prepares a poll with 20 candidates and 10,000 votes and an empty open poll whose voters each hold
their own access token, then loads the bare view, `GET /api/polls/{id}/results/` (anonymous) and
`POST /api/polls/{id}/votes/` (one distinct user per request) with the same client processes, and
checks afterwards that the database stored exactly the votes that were answered 201.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    # Run as `python bench/votes.py`: make the `bench` package importable.
    sys.path.insert(0, str(ROOT))

from bench import harness, load  # noqa: E402
from bench.harness import BARE_PATH, BASE_HEADERS, JSON_HEADERS, expect  # noqa: E402
from bench.load import Target  # noqa: E402
from bench.votes_fixture import (  # noqa: E402
    Fixture,
    ballots,
    django_prepare,
    results_counts_check,
    results_path,
    votes_path,
)

TARGET_RESULTS_RATIO = 0.4
TARGET_VOTES_PER_SECOND = 300.0
RATIO_FIGURE = "results / bare throughput ratio"
RATE_FIGURE = "POST vote, one distinct user each, votes/s (201s)"
# Above this share of the host's CPU used by other work during the load, the run says so.
OTHER_SHARE_WARNING = 0.15
# Seconds of margin between the end of the planned load and the expiry of the prepared tokens.
TOKEN_MARGIN = 60.0


def sanity_check(port: int, fixture: Fixture) -> None:
    """Fail before loading if a URL would not measure what it claims to; the probe votes once."""
    from bench.urls import BARE_BODY

    if expect(port, BARE_PATH, 200) != BARE_BODY:
        raise RuntimeError("the bare view returned an unexpected body")
    body = expect(port, results_path(fixture.results_poll_id), 200)
    listed = {row["id"]: row["votes"] for row in body["candidates"]}
    if list(listed.items()) != list(fixture.results_counts.items()):
        raise RuntimeError("the results endpoint lists other counts or another order")
    if body["total_votes"] != sum(fixture.results_counts.values()):
        raise RuntimeError(f"the results endpoint says total_votes {body['total_votes']}")
    path = votes_path(fixture.votes_poll_id)
    ballot = json.dumps({"candidate": fixture.vote_candidate_ids[0]})
    expect(port, path, 401, JSON_HEADERS, method="POST", body=ballot)
    auth = {**JSON_HEADERS, "Authorization": f"Bearer {fixture.probe_token}"}
    if expect(port, path, 201, auth, method="POST", body=ballot)["poll"] != fixture.votes_poll_id:
        raise RuntimeError("the vote was stored in another poll")
    refused = expect(port, path, 409, auth, method="POST", body=ballot)
    if refused["error"]["code"] != "already_voted":
        raise RuntimeError(f"a second vote was refused with {refused['error']['code']}")


def votes_stored_check(fixture: Fixture, answered_201: int) -> tuple[bool, str]:
    """The database after the run: as many votes as 201s, and counters equal to the votes."""
    from votes.models import Candidate, Poll, Vote
    from votes.selectors import vote_totals_by_aggregate

    poll_id = fixture.votes_poll_id
    stored = Vote.objects.filter(poll_id=poll_id).count()
    counters = dict(Candidate.objects.filter(poll_id=poll_id).values_list("pk", "vote_count"))
    counted = vote_totals_by_aggregate(poll=Poll.objects.get(pk=poll_id))
    ok = stored == answered_201 == sum(counters.values()) and counters == counted
    return ok, (
        f"votes poll #{poll_id}: 201 responses {answered_201}, votes stored {stored}, "
        f"vote_count sum {sum(counters.values())}, every vote_count equals its aggregate: "
        f"{'yes' if counters == counted else 'NO'}"
    )


def print_cpu(targets: list[Target]) -> None:
    """Where the host's CPU went per response, from /proc, and how busy the host was."""
    groups = ("gunicorn", "postgres", "redis", "clients")
    columns = (*groups, "other", "irq", "busy")
    print(f"{'CPU ms/response':<22}" + "".join(f"{name:>10}" for name in columns))
    for t in targets:
        per = [max(0.0, t.cpu_ms_per_request(name)) for name in groups]
        other = max(0.0, t.cpu_ms_per_request("host") - sum(per))
        busy = t.cpu["host"] + t.cpu["irq"]
        busy = busy / t.cpu["wall"] / (os.cpu_count() or 1) if t.cpu["wall"] else 0.0
        cells = (*per, other, t.cpu_ms_per_request("irq"))
        print(f"{t.label:<22}" + "".join(f"{v:>10.2f}" for v in cells) + f"{busy:>10.0%}")
    print(
        "  postgres: every backend, other databases' too; clients: the load generator; other: "
        "other processes (other people's work skews the run); irq: kernel interrupts, mostly "
        "loopback TCP; busy: share of all cores"
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
    ours = sum(
        t.cpu[name] for t in targets for name in ("gunicorn", "postgres", "redis", "clients")
    )
    return max(0.0, host - ours) / host if host else 0.0


def figures(
    bare: Target, results: Target, votes: Target, *, errors: int, stored_ok: bool
) -> list[dict]:
    ratio = results.rps / bare.rps if bare.rps else 0.0
    votes_per_second = votes.rate_of(201)
    valid = errors == 0 and all(t.responses for t in (bare, results, votes))
    return [
        {"figure": "bare view in the votes run, req/s", "value": f"{bare.rps:.0f}"},
        {
            "figure": "GET poll results (20 candidates, 10k votes), req/s",
            "value": f"{results.rps:.0f}",
        },
        {
            "figure": RATIO_FIGURE,
            "value": f"{ratio:.2f}",
            "target": f">= {TARGET_RESULTS_RATIO:.2f}",
            "verdict": harness.verdict(ratio >= TARGET_RESULTS_RATIO, valid),
        },
        {
            "figure": RATE_FIGURE,
            "value": f"{votes_per_second:.0f}",
            "target": f">= {TARGET_VOTES_PER_SECOND:.0f}",
            "verdict": harness.verdict(
                votes_per_second >= TARGET_VOTES_PER_SECOND, valid and stored_ok
            ),
        },
        {
            "figure": "gunicorn CPU per request, results / vote / bare",
            "value": f"{results.cpu_ms_per_request():.2f} / {votes.cpu_ms_per_request():.2f} / "
            f"{bare.cpu_ms_per_request():.2f} ms",
        },
        {
            "figure": "results / vote p50 / p99 latency",
            "value": f"{results.percentile_ms(50):.1f} / {results.percentile_ms(99):.1f}, "
            f"{votes.percentile_ms(50):.1f} / {votes.percentile_ms(99):.1f} ms",
        },
        {
            "figure": "host CPU taken by other processes during the votes run",
            "value": f"{other_share([bare, results, votes]):.0%}",
        },
        {
            "figure": "votes stored = 201s = vote_count sum = aggregate",
            "value": "yes" if stored_ok else "NO",
            "target": "yes",
            "verdict": "PASS" if stored_ok else "FAIL",
        },
        {
            "figure": "unexpected/failed responses in the votes run, warm-up included",
            "value": f"{errors}",
            "target": "0",
            "verdict": "PASS" if errors == 0 else "FAIL",
        },
    ]


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--voters",
        type=int,
        default=15_000,
        help="users with a token for the vote load, each votes at most once (15000)",
    )
    parser.add_argument("--results-votes", type=int, default=10_000, help="(10000)")
    parser.add_argument("--results-candidates", type=int, default=20, help="(20)")
    parser.add_argument("--choices", type=int, default=5, help="candidates to vote for (5)")
    args = harness.parse_args(
        parser, positive=("voters", "results_votes", "results_candidates", "choices")
    )
    env = harness.bench_env(database_url=args.database_url, redis_url=args.redis_url)
    os.environ.update(env)
    harness.database_ensure(args.database_url)
    harness.redis_clear(args.redis_url)
    fixture = django_prepare(
        voters=args.voters,
        results_votes=args.results_votes,
        results_candidates=args.results_candidates,
        choices=args.choices,
    )

    plan = load.Plan.from_args(args)
    # Three URLs; a second per slice covers its START_SLACK and the pool's dispatch.
    planned = 3 * (plan.warmup + plan.duration + plan.rounds * 1.0)
    if time.time() + planned + TOKEN_MARGIN > fixture.tokens_expire_at:
        raise RuntimeError(
            f"the prepared access tokens expire before the planned {planned:.0f} s of load end; "
            "shorten --duration or raise ACCESS_TOKEN_LIFETIME_SECONDS"
        )
    harness.print_setup(args, plan)
    watched = harness.service_pids(database_url=args.database_url, redis_url=args.redis_url)
    bare = Target("bare JsonResponse", BARE_PATH, BASE_HEADERS, ok_statuses=(200,))
    results = Target(
        "GET results", results_path(fixture.results_poll_id), BASE_HEADERS, ok_statuses=(200,)
    )
    votes = Target(
        "POST vote",
        votes_path(fixture.votes_poll_id),
        JSON_HEADERS,
        method="POST",
        ok_statuses=(201,),
        supply=ballots(fixture),
    )
    targets = [bare, results, votes]
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        harness.gunicorn_server(env, args.workers, Path(tmp) / "gunicorn.log", watched) as server,
    ):
        sanity_check(server.port, fixture)
        with load.client_pool(args.concurrency) as pool:
            load.measure(pool, server, targets, plan)

    load.print_targets(targets)
    print_cpu(targets)
    errors = sum(t.errors + t.errors_in(t.warmup_statuses, t.warmup_failures) for t in targets)
    answered_201 = 1 + votes.warmup_statuses[201] + votes.statuses[201]
    stored_ok, stored = votes_stored_check(fixture, answered_201)
    results_ok, results_after = results_counts_check(
        fixture.results_poll_id, fixture.results_counts
    )
    stored_ok = stored_ok and results_ok
    rows = figures(bare, results, votes, errors=errors, stored_ok=stored_ok)
    by_name = {row["figure"]: row for row in rows}
    ratio, rate = by_name[RATIO_FIGURE], by_name[RATE_FIGURE]
    print(f"ratio results / bare: {ratio['value']} (target {ratio['target']}): {ratio['verdict']}")
    print(
        f"votes/s (201s only, {votes.statuses[201]} measured, {votes.warmup_statuses[201]} in "
        f"warm-up, 1 probe): {rate['value']} (target {rate['target']}): {rate['verdict']}"
    )
    if errors:
        print(f"{errors} unexpected or failed responses, warm-up included: the run is INVALID")
    print(f"database check: {stored}: {'PASS' if stored_ok else 'FAIL'}")
    print(f"database check after the run: {results_after}")
    print(f"voters left unused: {len(votes.supply)} of {len(fixture.tokens)}")
    harness.write_figures(args.json_out, rows)
    return 0 if errors == 0 and stored_ok else 1


if __name__ == "__main__":
    harness.script_main(main)

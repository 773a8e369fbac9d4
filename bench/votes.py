"""Poll results and vote casting on gunicorn, against the true floor (bench/floor/) in the same run.

Results of a poll of 20 candidates and 10,000 votes, and votes of one distinct user each; the
database must then hold exactly the votes answered 201. Our bare view shows what the stack costs.
"""

import json
import time

from bench import harness, load, servers
from bench.harness import figure
from bench.load import BARE_PATH, BASE_HEADERS, JSON_HEADERS, Target
from tools import clients, cpu, fixtures
from tools.clients import Client
from tools.procs import script_main

TARGET_RESULTS_RATIO = 0.5
TARGET_VOTES_PER_SECOND = 300.0
GROUPS = ("gunicorn", "floor", "postgres", "redis", "clients")


def vote_counts(total: int, candidates: int) -> list[int]:
    """Distinct counts summing to `total`, not in candidate order (so sorting is exercised)."""
    weights = [(7 * k) % candidates + 1 for k in range(candidates)]  # a permutation of 1..n
    counts = [total * w // sum(weights) for w in weights]
    for k in sorted(range(candidates), key=lambda i: -weights[i])[: total - sum(counts)]:
        counts[k] += 1
    return counts


@fixtures.closing
def prepare(*, voters: int, results_votes: int, candidates: int, choices: int):
    """A results poll whose votes are bulk-created with each candidate's vote_count set to match
    (candidate id -> votes, in the order the endpoint must list them), an empty open poll, and
    one session + access token per voter of the load and one more for the probe."""
    from django.db import transaction
    from django.utils import timezone

    from votes.models import Candidate, Vote

    began = time.monotonic()
    people = fixtures.users("bench-voter-", max(voters + 1, results_votes))
    results_id, rows = fixtures.open_poll("Bench results poll", candidates)
    counts, now, supply = vote_counts(results_votes, candidates), timezone.now(), iter(people)
    with transaction.atomic():
        Vote.objects.bulk_create(
            (Vote(poll_id=results_id, candidate_id=pk, voter=next(supply), cast_at=now)
             for pk, count in zip(rows, counts, strict=True) for _ in range(count)),
            batch_size=2000,
        )  # fmt: skip
        for pk, count in zip(rows, counts, strict=True):
            Candidate.objects.filter(pk=pk).update(vote_count=count)
    names = dict(Candidate.objects.filter(poll_id=results_id).values_list("pk", "name"))
    ordered = sorted(zip(rows, counts, strict=True), key=lambda rc: (-rc[1], names[rc[0]], rc[0]))
    votes_id, choice_ids = fixtures.open_poll("Bench votes poll", choices)
    tokens = fixtures.tokens(people[: voters + 1], "bench/votes.py")
    fixtures.analyze()
    print(
        f"prepared in {time.monotonic() - began:.1f} s: {len(people)} voters, {len(tokens)} with "
        f"a token; results poll #{results_id} ({candidates} candidates, {results_votes} votes), "
        f"empty votes poll #{votes_id} ({choices} candidates)"
    )
    ok, line = stored_check(results_id, dict(ordered))
    if not ok:
        raise RuntimeError(f"the prepared vote counts do not match the votes: {line}")
    return results_id, dict(ordered), votes_id, choice_ids, tokens


def sanity_check(client: Client, results_id: int, counts: dict, votes_id: int, choice: int, token):
    """Fail before loading if a URL would not measure what it claims to; the probe votes once."""
    from bench.urls import BARE_BODY

    if client.send("bare", "GET", BARE_PATH).data != BARE_BODY:
        raise RuntimeError("the bare view returned an unexpected body")
    body = client.send("results", "GET", f"/api/polls/{results_id}/results/").data
    if [(row["id"], row["votes"]) for row in body["candidates"]] != list(counts.items()):
        raise RuntimeError("the results endpoint lists other counts or another order")
    if body["total_votes"] != sum(counts.values()):
        raise RuntimeError(f"the results endpoint says total_votes {body['total_votes']}")
    path, ballot = f"/api/polls/{votes_id}/votes/", {"candidate": choice}
    answers = [
        client.send("vote", "POST", path, body=ballot, token=t) for t in (None, token, token)
    ]
    if [a.status for a in answers] != [401, 201, 409] or answers[1].data["poll"] != votes_id:
        raise RuntimeError(f"a vote without token, the probe's and again: {answers}")
    if answers[2].code != "already_voted":
        raise RuntimeError(f"a second vote was refused with {answers[2].code}")


@fixtures.closing
def stored_check(poll_id: int, expected: dict | int) -> tuple[bool, str]:
    """Vote rows and counters of a poll: as many as `expected` (a count of 201s, or candidate ->
    votes), and every vote_count equal to votes.selectors.vote_totals_by_aggregate."""
    from votes.models import Candidate, Poll, Vote
    from votes.selectors import vote_totals_by_aggregate

    stored = Vote.objects.filter(poll_id=poll_id).count()
    counters = dict(Candidate.objects.filter(poll_id=poll_id).values_list("pk", "vote_count"))
    counted = vote_totals_by_aggregate(poll=Poll.objects.get(pk=poll_id))
    if isinstance(expected, dict):
        ok, total = counters == counted == expected, sum(expected.values())
    else:
        ok, total = stored == expected == sum(counters.values()) and counters == counted, expected
    return ok, (
        f"poll #{poll_id}: votes stored {stored}, expected {total}, vote_count sum "
        f"{sum(counters.values())}, every vote_count equals its aggregate: "
        f"{'yes' if counters == counted else 'NO'}"
    )


def main() -> int:
    parser = harness.argument_parser(__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=15_000, help="each votes once (15000)")
    parser.add_argument("--results-votes", type=int, default=10_000, help="(10000)")
    parser.add_argument("--results-candidates", type=int, default=20, help="(20)")
    parser.add_argument("--choices", type=int, default=5, help="candidates to vote for (5)")
    positive = ("voters", "results_votes", "results_candidates", "choices")
    args = harness.parse_args(parser, positive)
    plan = load.Plan.from_args(args)
    with servers.served(args) as running, servers.floor_server(args, running) as floor_port:
        results_id, counts, votes_id, choices, tokens = prepare(
            voters=args.voters, results_votes=args.results_votes,
            candidates=args.results_candidates, choices=args.choices,
        )  # fmt: skip
        # Four URLs; a second per slice covers the start slack and the pool's dispatch.
        servers.tokens_outlive(4 * (plan.warmup + plan.duration + plan.rounds))
        harness.print_setup(args, plan, floor_port=floor_port)
        client = Client(running.gunicorn_ports[0])
        sanity_check(client, results_id, counts, votes_id, choices[0], tokens.pop())
        client.close()
        ballots = [
            ({"Authorization": f"Bearer {token}"},
             json.dumps({"candidate": choices[i % len(choices)]}).encode())
            for i, token in enumerate(tokens)
        ]  # fmt: skip
        floor = load.floor_target(floor_port, ok_statuses=(200,))
        bare = Target("bare JsonResponse", BARE_PATH, BASE_HEADERS, ok_statuses=(200,))
        results = Target("GET results", f"/api/polls/{results_id}/results/", BASE_HEADERS,
                         ok_statuses=(200,))  # fmt: skip
        votes = Target("POST vote", f"/api/polls/{votes_id}/votes/", JSON_HEADERS, "POST",
                       ok_statuses=(201,), supply=ballots)  # fmt: skip
        targets, offered = [floor, bare, results, votes], len(ballots)
        with clients.pool(args.concurrency) as pool:
            load.measure(pool, running, targets, plan)
        answered = 1 + votes.warmup_statuses[201] + votes.statuses[201]
        votes_ok, votes_line = stored_check(votes_id, answered)
        results_ok, results_line = stored_check(results_id, counts)

    load.print_targets(targets)
    rows = [(t.label, t.cpu, t.responses) for t in targets]
    share = cpu.print_table(rows, GROUPS, "postgres: every backend; clients: the load generator")
    errors = sum(t.all_errors for t in targets)
    valid = errors == 0 and all(t.responses for t in targets)
    stored_ok = votes_ok and results_ok
    ratio, rate = load.ratio(results, floor), votes.rate_of(201)
    print(f"database check: {votes_line}; {results_line}: {'PASS' if stored_ok else 'FAIL'}")
    print(f"votes: {votes.statuses[201]} measured, {votes.warmup_statuses[201]} in warm-up, 1 "
          f"probe; voters left unused: {len(votes.supply)} of {offered}")  # fmt: skip
    harness.report(args, [
        *harness.floor_figures(floor, bare, " in the votes run"),
        figure("GET poll results (20 candidates, 10k votes), req/s", f"{results.rps:.0f}"),
        figure("results / floor throughput ratio", f"{ratio:.2f}",
               f">= {TARGET_RESULTS_RATIO:.2f}", ratio >= TARGET_RESULTS_RATIO, valid),
        figure("results / bare throughput ratio (the endpoint alone)",
               f"{load.ratio(results, bare):.2f}"),
        figure("POST vote, one distinct user each, votes/s (201s)", f"{rate:.0f}",
               f">= {TARGET_VOTES_PER_SECOND:.0f}", rate >= TARGET_VOTES_PER_SECOND,
               valid and stored_ok),
        figure("gunicorn CPU per response, results / vote / bare / floor",
               f"{results.cpu_ms():.2f} / {votes.cpu_ms():.2f} / {bare.cpu_ms():.2f} / "
               f"{floor.cpu_ms():.2f} ms"),
        figure("results / vote p50 / p99 latency",
               f"{results.percentile_ms(50):.1f} / {results.percentile_ms(99):.1f}, "
               f"{votes.percentile_ms(50):.1f} / {votes.percentile_ms(99):.1f} ms"),
        figure("host CPU taken by other processes during the votes run",
               f"{share:.0%}"),
        figure("votes stored = 201s = vote_count sum = aggregate", "yes" if stored_ok else "NO",
               "yes", stored_ok),
        figure("unexpected/failed responses in the votes run, warm-up included", errors, "0",
               errors == 0),
    ])  # fmt: skip
    return 0 if errors == 0 and stored_ok else 1


if __name__ == "__main__":
    script_main(main)

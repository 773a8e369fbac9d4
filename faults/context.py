"""What every scenario shares: the running stack, its data and the client pool (Context), the
gunicorn workers read from /proc, what a client does after a failure it was told to retry, how a
failed request is judged, the printed tables, and what gunicorn logged meanwhile."""

import contextlib
import os
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tools.clients import CUT_SHORT, Client, Reply, percentile
from tools.cpu import process_stats
from tools.fixtures import Check, checkout_checks, stuck_idempotency_keys, votes_checks
from tools.flows import vote_answer_right, vote_send

# Codes of answers that say "retry later" and are what a fault may cause, from Django (503) or
# from nginx in front of a dead worker (its 502/504 become the same 503 envelope).
FAULT_STATUSES = (502, 503, 504)
RETRIES, RETRY_PAUSE = 3, 0.5


@dataclass
class Context:
    stack: object  # tools.stack.Stack, with its private PostgreSQL and Redis
    poll_id: int
    ballots: list  # one Ballot per voter, each handed out once
    buyers: list  # one Buyer each, handed out once
    pool: object  # spawned client processes
    workers: int  # per gunicorn instance
    # What the clients were told, over every scenario (they share one poll and one catalogue).
    answered_voters: set = field(default_factory=set)  # answered 201 with the right data
    attempted_voters: set = field(default_factory=set)  # sent at least one vote
    failed_voters: set = field(default_factory=set)  # whose first vote failed
    recast_voters: set = field(default_factory=set)  # whose retry cast it anew (201, no replay)
    paid_payments: set = field(default_factory=set)  # approve answered 200 paid

    @property
    def server(self) -> tuple:
        """nginx's HTTPS port and the certificate to trust: where the clients go."""
        return self.stack.https_port, str(self.stack.certificate)

    def client(self) -> Client:
        return Client(*self.server)

    def take(self, kind: str, count: int) -> list:
        """`count` of the unused "ballots" or "buyers", each handed out once."""
        supply = getattr(self, kind)
        if len(supply) < count:
            raise RuntimeError(f"only {len(supply)} {kind} left, {count} needed")
        setattr(self, kind, supply[count:])
        return supply[:count]

    def database_checks(self) -> list[Check]:
        """The whole database against everything the clients were told so far."""
        return [
            # A failed first vote that is stored but was not cast anew by its retry was committed
            # by that first try: its answer was lost.
            *votes_checks(poll_id=self.poll_id, answered=self.answered_voters,
                          attempted=self.attempted_voters,
                          lost=self.failed_voters - self.recast_voters),
            *checkout_checks(paid_payment_ids=self.paid_payments),
            Check("idempotency keys left claimed (all scenarios so far)", None,
                  str(stuck_idempotency_keys())),
        ]  # fmt: skip

    # --- gunicorn's masters and workers ---------------------------------------------------------

    def workers_by_master(self) -> dict[int, list[int]]:
        masters = [p.pid for name, p in self.stack.processes.items() if name.startswith("gunic")]
        return {master: children(master) for master in masters}

    def worker_pids(self) -> list[int]:
        return [pid for pids in self.workers_by_master().values() for pid in pids]

    def wait_for_workers(self, gone: set, timeout: float = 30.0) -> float | None:
        """Seconds until every master runs its workers again, none of them in `gone`; None if
        that did not happen within `timeout`."""
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            current = self.workers_by_master().values()
            if all(len(pids) == self.workers and not gone & set(pids) for pids in current):
                return time.monotonic() - began
            time.sleep(0.1)
        return None


def children(pid: int) -> list[int]:
    """Live child processes of `pid` (zombies left out: a killed worker not yet reaped)."""
    stats = process_stats().items()
    return sorted(child for child, fields in stats if fields[1] == str(pid) and fields[0] != "Z")


def holding_local_port(pids: list[int], port: int) -> int | None:
    """The process among `pids` that owns the TCP socket bound locally to `port` (IPv4)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


# --- Retries, as a client told "retry later" does --------------------------------------------


def retried(send, pause: float = RETRY_PAUSE) -> list[Reply]:
    """`send()` until answered below 500, at most RETRIES times; every result."""
    results = []
    for attempt in range(RETRIES):
        results.append(result := send())
        if result.status is not None and result.status < 500:
            break
        time.sleep(pause * (attempt + 1))
    return results


def settle(ctx: Context, pairs: list, flows: list) -> tuple[list, list, list[Check]]:
    """Retry the failed votes (same Idempotency-Key) and approvals, note in `ctx` what the
    clients were told; the load's own results, the retries' and the verdicts on both."""
    client, vote_retries, approve_retries, last = ctx.client(), [], [], {}
    for ballot in [b for b, r in pairs if not r.ok]:
        vote_retries += retried(partial(vote_send, client, ctx.poll_id, ballot, "POST vote retry"))
        last[ballot] = vote_retries[-1]
    approve_failed = [f for f in flows if f.last.label == "GET approve" and not f.last.ok]
    for flow in approve_failed:
        send = partial(client.send, "GET approve retry", "GET", flow.approve_path)
        flow.steps += (sent := retried(partial(send, token=flow.buyer.token)))
        approve_retries += sent
    client.close()
    load = [r for _b, r in pairs] + [r for f in flows for r in f.steps if "retry" not in r.label]
    ctx.paid_payments |= {f.payment_id for f in flows if f.paid}
    paid = sum(f.paid for f in approve_failed)
    approved = Check("failed approvals retried end paid", paid == len(approve_failed),
                     f"{paid}/{len(approve_failed)}")  # fmt: skip
    return load, vote_retries + approve_retries, [*vote_outcomes(ctx, pairs, last), approved]


def vote_outcomes(ctx: Context, pairs: list, retries: dict) -> list[Check]:
    """Note in `ctx` who was answered 201 (first try or retry), who sent, whose first try
    failed; the verdicts on the answers and on the retries."""
    answered, wrong = set(), 0
    for ballot, result in [*pairs, *retries.items()]:
        # A 201 cut short by a killed worker told the client nothing: its retry is judged.
        if result.status == 201 and result.error is None:
            if vote_answer_right(result, ctx.poll_id, ballot):
                answered.add(ballot.voter)
            else:
                wrong += 1
    stuck = [b for b, r in retries.items() if r.code == "idempotency_request_in_progress"]
    replayed = sum(1 for r in retries.values() if r.status == 201 and r.replayed)
    unsettled = [b for b, r in retries.items() if r.status != 201]
    ctx.answered_voters |= answered
    ctx.attempted_voters |= {ballot.voter for ballot, _ in pairs}
    ctx.failed_voters |= {ballot.voter for ballot in retries}
    ctx.recast_voters |= {b.voter for b, r in retries.items() if r.status == 201 and not r.replayed}
    return [
        Check("2xx votes carry the right poll and candidate", wrong == 0, f"{wrong} wrong"),
        Check(
            "failed votes retried with the same key settle (201, fresh or replayed)",
            not unsettled,
            f"{len(retries)} retried: {len(retries) - len(unsettled) - replayed} fresh 201, "
            f"{replayed} replayed 201, {len(stuck)} stuck at 409 idempotency_request_in_progress"
            f", {len(unsettled) - len(stuck)} other",
        ),
    ]


# --- How failures are judged --------------------------------------------------------------------


def is_unavailable_envelope(result: Reply) -> bool:
    """A 5xx with a Retry-After, in the error envelope with code service_unavailable under
    /api/ (pages outside it, like the sandbox's checkout page, answer plain text)."""
    if result.status not in FAULT_STATUSES or not result.retry_after:
        return False
    return result.code == "service_unavailable" or not result.path.startswith("/api/")


def failure_checks(results: list[Reply]) -> list[Check]:
    """Requests that failed did so as a fault should: a 5xx saying "retry later", from Django or
    from nginx in front of it; never a 500, another status, a bare error page or no answer."""
    failed = [r for r in results if not r.ok]
    cut_short = [r for r in failed if r.error == CUT_SHORT]
    failed = [r for r in failed if r.error != CUT_SHORT]
    server_errors = [r for r in failed if r.status == 500]
    unexpected = [r for r in failed if r.status is not None and r.status not in FAULT_STATUSES]
    bare = [r for r in failed if r.status in FAULT_STATUSES and not is_unavailable_envelope(r)]
    no_answer = [r for r in failed if r.status is None]
    others = " ".join(sorted({f"{r.label} {r.status} {r.code}" for r in unexpected})) or "none"
    return [
        Check("no 500", not server_errors, f"{len(server_errors)} answered 500"),
        Check("failures are 5xx 'retry later', nothing else", not unexpected,
              f"{len(failed)} failed; other statuses: {others}"),
        Check("5xx say service_unavailable (JSON envelope under /api/) + Retry-After", not bare,
              f"{len(failed) - len(no_answer) - len(bare)} with it, {len(bare)} without"),
        Check("no connection errors: nginx always answered", not no_answer, str(len(no_answer))),
        Check("answers cut short by a worker killed while writing them (retried like failures)",
              None, str(len(cut_short))),
    ]  # fmt: skip


# --- Printed figures ----------------------------------------------------------------------------


def statuses(results: list[Reply]) -> str:
    counts = Counter(str(r.status) if r.status is not None else r.error for r in results)
    return " ".join(f"{key}x{n}" for key, n in sorted(counts.items()))


def print_requests(title: str, results: list[Reply]) -> None:
    print(f"\n== {title}")
    print(f"  {'request':<20}{'sent':>6}  {'answers (statusxcount, or error)':<44}{'p99 ms':>8}"
          f"{'max ms':>8}")  # fmt: skip
    groups = defaultdict(list)
    for result in results:
        groups[result.label].append(result)
    for label, group in groups.items():
        latencies = [r.latency * 1000 for r in group]
        print(f"  {label:<20}{len(group):>6}  {statuses(group):<44}"
              f"{percentile(latencies, 99):>8.0f}{max(latencies):>8.0f}")  # fmt: skip


def print_timeline(events: list[tuple[str, float]], origin: float) -> None:
    print("  timeline: " + ", ".join(f"{name} +{at - origin:.1f}s" for name, at in events))


class LogWatch:
    """What gunicorn logged since the last look: the exception behind each 500 and gunicorn's
    own notices (workers killed, timed out), so a failed invariant names its cause."""

    SERVER_ERROR = re.compile(r"^Internal Server Error: (\S+)")
    CHAIN = ("Traceback (most recent call last):", "During handling", "The above exception")
    NOTICE = re.compile(r"\[(?:ERROR|CRITICAL|WARNING)\] (.*)")

    def __init__(self, stack):
        self.offsets = {path: 0 for path in sorted(Path(stack.run_dir, "logs").glob("gunicorn-*"))}

    def _final_exception(self, lines: list[str], start: int) -> str:
        """The last exception line of the (possibly chained) traceback after `start`."""
        final = "?"
        for index in range(start + 1, len(lines)):
            line = lines[index]
            if not line.strip() or line.startswith((" ", "\t", *self.CHAIN)):
                continue
            final = line
            if not next((rest for rest in lines[index + 1 :] if rest.strip()), "").startswith(
                self.CHAIN
            ):
                break
        return final[:200]

    def print_news(self) -> None:
        errors, notices = Counter(), Counter()
        for path in self.offsets:
            with path.open(errors="replace") as log:
                log.seek(self.offsets[path])
                lines = log.read().splitlines()
                self.offsets[path] = log.tell()
            for index, line in enumerate(lines):
                if match := self.SERVER_ERROR.match(line):
                    errors[f"{match[1]}: {self._final_exception(lines, index)}"] += 1
                elif match := self.NOTICE.search(line):
                    notices[re.sub(r"\d+", "N", match[1])] += 1
        for line, count in errors.most_common():
            print(f"  gunicorn log, 500 x{count}: {line}")
        for line, count in notices.most_common(5):
            print(f"  gunicorn log x{count}: {line}")

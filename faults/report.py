"""The printed figures: a table of requests per kind, then the invariants with their verdicts."""

import math
from collections import Counter, defaultdict

from faults.checks import Check
from faults.client import Result


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def statuses(results: list[Result]) -> str:
    counts = Counter(str(r.status) if r.status is not None else r.error for r in results)
    return " ".join(f"{key}x{n}" for key, n in sorted(counts.items()))


def print_requests(title: str, results: list[Result]) -> None:
    print(f"\n== {title}")
    print(f"  {'request':<20}{'sent':>6}  {'answers (statusxcount, or error)':<44}{'p99 ms':>8}"
          f"{'max ms':>8}")  # fmt: skip
    groups = defaultdict(list)
    for result in results:
        groups[result.label].append(result)
    for label, group in groups.items():
        latencies = [r.latency * 1000 for r in group]
        print(
            f"  {label:<20}{len(group):>6}  {statuses(group):<44}"
            f"{percentile(latencies, 99):>8.0f}{max(latencies):>8.0f}"
        )


def print_checks(checks: list[Check]) -> bool:
    """Print each invariant; True if none failed."""
    for check in checks:
        verdict = {True: "PASS", False: "FAIL", None: "info"}[check.ok]
        detail = f": {check.detail}" if check.detail else ""
        print(f"  {verdict:<5} {check.name}{detail}")
    return all(check.ok is not False for check in checks)


def print_timeline(events: list[tuple[str, float]], origin: float) -> None:
    print("  timeline: " + ", ".join(f"{name} +{at - origin:.1f}s" for name, at in events))

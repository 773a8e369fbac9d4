"""Run every benchmark under bench/ one after another and print one table of their figures.

Exit status 1 if a script failed or any figure missed its target (verdict other than PASS).

    .venv/bin/python -m bench.run_all [--quick]
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.procs import ROOT

# Sequential, cheapest first: a script running alongside another would skew both.
SCRIPTS = (
    "password_hashing",
    "auth_throughput",
    "votes",
    "catalogue",
    "stream",
    "course_tree",
    "checkout",
    "edge",
    "video",
    "chat",
)
COLUMNS = ("figure", "value", "target", "verdict")
# --quick: every script for a few seconds, to see that each runs (its figures mean little).
SHORT = ["--duration", "2", "--warmup", "0.5", "--slice", "1"]
QUICK = {
    "password_hashing": ["--rounds", "3", "--logins", "4"],
    "votes": [*SHORT, "--voters", "3000"],
    # Every course even when quick: making them takes well under a second.
    "catalogue": [*SHORT, "--courses", "50"],
    "stream": [*SHORT, "--size-mb", "5", "--events", "3000"],
    "course_tree": ["--repeat", "1"],
    "checkout": ["--flows", "40", "--duration", "20", "--warmup", "1"],
    "video": [*SHORT, "--clip-seconds", "4", "--uploads", "2", "--upload-seconds", "4"],
    "chat": ["--seconds", "1", "--idle", "100", "--sizes", "10,100"],
}


def run(script: str, json_out: Path, quick: bool) -> list[dict]:
    print(f"\n=== bench.{script} ===", flush=True)
    began = time.monotonic()
    command = [sys.executable, "-m", f"bench.{script}", "--json-out", str(json_out)]
    command += QUICK.get(script, SHORT) if quick else []
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        code = process.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the script too; it stops its own servers, so wait rather than kill it.
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    print(f"(bench.{script} took {time.monotonic() - began:.0f} s, exit status {code})")
    rows = json.loads(json_out.read_text()) if json_out.exists() else []
    if code != 0 and not rows:
        rows = [{"figure": f"bench.{script}", "value": f"exit status {code}", "verdict": "ERROR"}]
    return rows


def print_table(rows: list[dict]) -> None:
    cells = [[str(row.get(column, "-")) for column in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in [list(COLUMNS), *cells]) for i in range(len(COLUMNS))]
    for line in [list(COLUMNS), ["-" * width for width in widths], *cells]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        )


def main() -> int:
    # Other work on the host skews every figure; the table says how busy it was.
    rows = [{"figure": "host load average (1 min) at start", "value": f"{os.getloadavg()[0]:.2f}"}]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for script in SCRIPTS:
            rows.extend(run(script, Path(tmp) / f"{script}.json", "--quick" in sys.argv))
    print()
    print_table(rows)
    return 1 if any(row.get("verdict", "PASS") != "PASS" for row in rows) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

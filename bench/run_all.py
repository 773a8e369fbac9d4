"""Run every benchmark under bench/ one after another and print one table of their figures.

Exit status 1 if a script failed or any figure missed its target (verdict other than PASS).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# Sequential, cheapest first: a script running alongside another would skew both.
SCRIPTS = (
    "password_hashing.py",
    "auth_throughput.py",
    "votes.py",
    "stream.py",
    "course_tree.py",
    "checkout.py",
    "edge.py",
)
COLUMNS = ("figure", "value", "target", "verdict")


def run(script: str, json_out: Path) -> list[dict]:
    print(f"\n=== {script} ===", flush=True)
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(BENCH / script), "--json-out", str(json_out)], cwd=BENCH.parent
    )
    try:
        code = process.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached the script too; it stops its own server, so wait rather than kill it.
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    print(f"({script} took {time.monotonic() - began:.0f} s, exit status {code})")
    rows = json.loads(json_out.read_text()) if json_out.exists() else []
    if code != 0 and not rows:
        rows = [{"figure": script, "value": f"exit status {code}", "verdict": "ERROR"}]
    return rows


def print_table(rows: list[dict]) -> None:
    cells = [[str(row.get(column, "-")) for column in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in [list(COLUMNS), *cells]) for i in range(len(COLUMNS))]
    for line in [list(COLUMNS), ["-" * width for width in widths], *cells]:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())


def main() -> int:
    # Other work on the host skews every figure; the table says how busy it was.
    rows = [{"figure": "host load average (1 min) at start", "value": f"{os.getloadavg()[0]:.2f}"}]
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for script in SCRIPTS:
            rows.extend(run(script, Path(tmp) / f"{Path(script).stem}.json"))
    print()
    print_table(rows)
    failed = [row for row in rows if row.get("verdict", "PASS") != "PASS"]
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

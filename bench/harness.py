"""What the benchmark scripts share besides the servers (bench.servers) and the load (bench.load):
the command line, the setup line they print, a request checked for its status, and the figures
printed or written for run_all.py. Nothing here imports Django at module level: client processes
import the benchmark scripts, which import this module."""

import argparse
import json
import os
from pathlib import Path

from bench.load import Plan, Target, ratio


def argument_parser(description: str, *, load: bool = True) -> argparse.ArgumentParser:
    """--json-out, and with `load` the options of a load measured in slices."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--json-out", type=Path, help="also write the figures here (run_all)")
    if load:
        parser.add_argument("--duration", type=float, default=10.0, help="seconds per URL (10)")
        parser.add_argument("--concurrency", type=int, default=4, help="client processes (4)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (2)")
        parser.add_argument("--warmup", type=float, default=2.0, help="warm-up s per URL (2)")
        parser.add_argument("--slice", type=float, default=2.5, help="seconds per slice (2.5)")
        parser.add_argument("--max-requests", type=int, default=200_000, help="per URL (200000)")
    return parser


def parse_args(parser: argparse.ArgumentParser, positive: tuple[str, ...] = ()):
    args = parser.parse_args()
    load = ("duration", "concurrency", "workers", "slice", "max_requests")
    for name in (*(n for n in load if hasattr(args, n)), *positive):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    return args


def print_setup(args: argparse.Namespace, plan: Plan, what: str = "bench.settings",
                floor_port: int | None = None) -> None:  # fmt: skip
    print(f"gunicorn {args.workers} sync workers ({what}), private PostgreSQL and Redis")
    if floor_port is not None:
        print(f"true floor: the same gunicorn command on bench.floor (CommonMiddleware, one JSON "
              f"view, no database, nothing of ours), port {floor_port}")  # fmt: skip
    print(f"load: {plan.concurrency} client processes (http.client), {plan.duration:g} s per URL "
          f"in {plan.slices} alternating slices after {plan.warmup:g} s warm-up each; "
          f"load average before {os.getloadavg()[0]:.2f}")  # fmt: skip


def expect(client, status: int, method: str, path: str, **kwargs):
    """`client.send`, failing the run unless it answers `status`; the Reply."""
    reply = client.send(path, method, path, **kwargs)
    if reply.status != status:
        raise RuntimeError(f"{method} {path}: {reply.summary}, expected {status}: {reply.text}")
    return reply


def figure(name: str, value, target: str | None = None, passed: bool = True, valid: bool = True):
    """One row of the table run_all prints: judged when it has a target."""
    row = {"figure": name, "value": str(value)}
    verdict = "PASS" if passed and valid else ("FAIL" if valid else "INVALID")
    return row if target is None else {**row, "target": target, "verdict": verdict}


def floor_figures(floor: Target, bare: Target, run: str = "") -> list[dict]:
    """The true floor, our bare view and their ratio: what our middleware stack and production
    settings cost a request that does nothing (shown, not judged). `run` tells runs apart."""
    return [
        figure(f"true floor (bench.floor){run}, req/s", f"{floor.rps:.0f}"),
        figure(f"bare view on our stack{run}, req/s", f"{bare.rps:.0f}"),
        figure(f"bare / floor{run}: what our middleware and settings cost",
               f"{ratio(bare, floor):.2f}"),
    ]  # fmt: skip


def report(args, rows: list[dict]) -> None:
    """Print the figures; with `--json-out`, write them for run_all.py."""
    for row in rows:
        judged = f" (target {row['target']}: {row['verdict']})" if "verdict" in row else ""
        print(f"{row['figure']}: {row['value']}{judged}")
    if args.json_out:
        args.json_out.write_text(json.dumps(rows))

"""What bench/chat.py measured, as figures: a phase per room size and layer, the table of both
layers side by side, and the rows run_all prints with the targets judged."""

import math
from collections import Counter
from dataclasses import dataclass, field

from bench.harness import figure
from tools.clients import percentile

TARGET_SIZE, TARGET_DELIVERIES, TARGET_P99_MS = 100, 5000.0, 100.0
TARGET_IDLE, TARGET_IDLE_KIB, TARGET_QUERIES = 1000, 64.0, 4


@dataclass
class Phase:
    """One room size under one layer."""

    size: int
    sent: int = 0
    acked: int = 0
    errors: Counter = field(default_factory=Counter)
    members: int = 0
    deliveries: int = 0
    missing: int = 0
    repeated: int = 0
    disordered: int = 0
    strays: int = 0
    closed: int = 0  # member sockets the server closed during the phase
    seconds: float = 0.0
    latencies: list = field(default_factory=list)  # ns
    ack_latencies: list = field(default_factory=list)  # ns, send -> the sender's ack
    cpu: Counter = field(default_factory=Counter)

    rate = property(lambda self: self.deliveries / self.seconds if self.seconds else 0.0)
    lost = property(lambda self: self.missing)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) / 1e6

    def ack_p(self, q: float) -> float:
        return percentile(self.ack_latencies, q) / 1e6

    def cpu_per_1000(self, group: str = "asgi") -> float:
        return self.cpu[group] * 1e6 / self.deliveries if self.deliveries else math.nan


@dataclass
class LayerResult:
    layer: str
    phases: dict = field(default_factory=dict)
    idle_open: int = 0
    idle_refused: dict = field(default_factory=dict)
    idle_kib: float = math.nan
    idle_rss: tuple = (0, 0)
    idle_open_seconds: float = 0.0
    other_share: float = 0.0
    worker_sockets: list = field(default_factory=list)  # open sockets per ASGI worker (fan-out)


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def print_table(results: dict[str, LayerResult], history: dict, deployed: str, args) -> None:
    layers = list(results)
    rates = ", ".join(f"{size}: {rate:g}/s" for size, rate in args.rates.items())
    print(f"\nchat fan-out, one sender at a fixed rate ({rates}) for {args.seconds:g} s per room, "
          f"{args.workers} ASGI worker(s) (production settings; idle sockets on one), "
          f"private PostgreSQL and Redis, "
          f"permessage-deflate {'off' if args.no_deflate else 'on'}; "
          f"deployed default layer: {deployed}")  # fmt: skip
    head = f"{'figure':<44}" + "".join(f"{layer:>18}" for layer in layers)
    print(head + f"  {'target':<18}")
    print("-" * len(head) + "-" * 20)

    def row(name: str, cells: list[str], target: str = "") -> None:
        print(f"{name:<44}" + "".join(f"{cell:>18}" for cell in cells) + f"  {target}")

    for size in args.sizes:
        phases = [results[layer].phases[size] for layer in layers]
        hit = size == TARGET_SIZE
        row(f"{size} members: deliveries/s",
            [f"{p.rate:,.0f}" + (f" {_verdict(p.rate >= TARGET_DELIVERIES)}" if hit else "")
             for p in phases], f">= {TARGET_DELIVERIES:,.0f}" if hit else "")  # fmt: skip
        row(f"{size} members: latency p50 / p99 ms",
            [f"{p.p(50):.1f} / {p.p(99):.1f}" for p in phases],
            f"p99 <= {TARGET_P99_MS:g}" if hit else "")  # fmt: skip
        if hit:
            row("", [_verdict(p.p(99) <= TARGET_P99_MS) for p in phases])
        row(
            f"{size} members: lost / repeated / disordered",
            [f"{p.lost} / {p.repeated} / {p.disordered}" for p in phases],
            "0 / 0 / 0",
        )
        row(f"{size} members: sent at {args.rates[size]:g}/s: acked / sent",
            [f"{p.acked}/{p.sent}" + (f" {sum(p.errors.values())}err" if p.errors else "")
             for p in phases])  # fmt: skip
        row(
            f"{size} members: send -> ack p50 / p99 ms",
            [f"{p.ack_p(50):.1f} / {p.ack_p(99):.1f}" for p in phases],
        )
        row(
            f"{size} members: ASGI CPU ms / 1000 deliveries",
            [f"{p.cpu_per_1000():.0f}" for p in phases],
        )
        row(
            f"{size} members: clients/PG/Redis/irq CPU ms",
            ["/".join(f"{p.cpu_per_1000(g):.0f}" for g in ("clients", "postgres", "redis", "irq"))
             for p in phases],
        )  # fmt: skip
    idle = [results[layer] for layer in layers]
    row(f"idle sockets open on one worker (of {args.idle})",
        [f"{r.idle_open} {_verdict(r.idle_open >= TARGET_IDLE)}" for r in idle],
        f">= {TARGET_IDLE}")  # fmt: skip
    row("worker RSS per idle socket, KiB",
        [f"{r.idle_kib:.1f} {_verdict(r.idle_kib <= TARGET_IDLE_KIB)}" for r in idle],
        f"<= {TARGET_IDLE_KIB:g}")  # fmt: skip
    row("host CPU used by other processes", [f"{r.other_share:.0%}" for r in idle])
    row("fan-out: open sockets per worker", [" / ".join(map(str, r.worker_sockets)) for r in idle])
    for size, (latest, before) in history.items():
        ok = max(latest, before) <= TARGET_QUERIES
        print(
            f"{f'history page of 50, room of {size} messages':<44}"
            f"{f'{latest} latest, {before} before_seq':>36}  <= {TARGET_QUERIES} {_verdict(ok)}"
        )


def figures(results: dict[str, LayerResult], history: dict, deployed: str) -> list[dict]:
    """Rows for run_all: targets judged on the deployed layer, the other shown; messages lost or
    repeated judged on both."""
    rows = []
    for layer, result in results.items():
        judged = layer == deployed
        suffix = f" ({layer}{', deployed' if judged else ''})"
        phase = result.phases.get(TARGET_SIZE)
        if phase is not None:
            rate_ok, p99_ok = phase.rate >= TARGET_DELIVERIES, phase.p(99) <= TARGET_P99_MS
            if judged:
                rows.append(
                    figure(
                        f"chat deliveries/s to {TARGET_SIZE} members{suffix}",
                        f"{phase.rate:.0f}",
                        f">= {TARGET_DELIVERIES:.0f}",
                        rate_ok,
                    )
                )
                rows.append(
                    figure(
                        f"chat p99 latency ms, {TARGET_SIZE} members{suffix}",
                        f"{phase.p(99):.1f}",
                        f"<= {TARGET_P99_MS:g}",
                        p99_ok,
                    )
                )
            else:
                rows.append(
                    figure(
                        f"chat deliveries/s / p99 ms to {TARGET_SIZE} members{suffix}",
                        f"{phase.rate:.0f} / {phase.p(99):.1f}",
                    )
                )
        for size, p in result.phases.items():
            if size != TARGET_SIZE:
                rows.append(
                    figure(
                        f"chat deliveries/s / p50 / p99 ms, {size} members{suffix}",
                        f"{p.rate:.0f} / {p.p(50):.1f} / {p.p(99):.1f}",
                    )
                )
        bad = sum(p.lost + p.repeated + p.disordered for p in result.phases.values())
        unacked = sum(p.sent - p.acked for p in result.phases.values())
        rows.append(figure(f"chat messages lost, repeated or out of order{suffix}",
                           bad, "0", bad == 0 and unacked == 0))  # fmt: skip
        idle_ok = result.idle_open >= TARGET_IDLE and result.idle_kib <= TARGET_IDLE_KIB
        name = f"chat idle sockets on one worker, KiB each{suffix}"
        value = f"{result.idle_open}, {result.idle_kib:.1f}"
        target = f">= {TARGET_IDLE}, <= {TARGET_IDLE_KIB:g}"
        rows.append(figure(name, value, target, idle_ok) if judged else figure(name, value))
    for size, counts in history.items():
        rows.append(
            figure(
                f"chat history page of 50 queries, room of {size} messages",
                max(counts),
                f"<= {TARGET_QUERIES}",
                max(counts) <= TARGET_QUERIES,
            )
        )
    return rows

"""Where the CPU went, from Linux /proc: per group of processes (a root and its children), the
host's processes and its interrupt handling, and a table of it per response."""

import contextlib
import os
import time
from collections import Counter
from pathlib import Path

# Above this share of the host's process CPU used by other work during a load, a run says so.
OTHER_SHARE_WARNING = 0.15


def process_stats() -> dict[int, list[str]]:
    """Per live pid, the fields of /proc/<pid>/stat after the command: state, parent, ..."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
    return stats


def sample(groups: dict[str, set[int]]) -> Counter:
    """CPU seconds so far of each group (its root processes, the children they reaped and their
    live direct children), "host" (every process: user, nice, system), "irq" (interrupts and
    softirqs, much of it loopback TCP, which no process is charged for) and "wall"
    (time.monotonic).

    A child that exits (a PostgreSQL backend whose connection closed, a recycled gunicorn worker)
    leaves its CPU in its parent's count of reaped children, which is counted for the roots: a
    group's total only grows, so the difference between two samples loses nothing."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = Counter(dict.fromkeys(groups, 0.0))
    for pid, fields in process_stats().items():
        for name, pids in groups.items():
            # After the command: utime and stime at 11 and 12, cutime and cstime at 13 and 14.
            if pid in pids:
                totals[name] += sum(int(ticks) for ticks in fields[11:15]) / tick
                break
            if int(fields[1]) in pids:
                totals[name] += (int(fields[11]) + int(fields[12])) / tick
                break
    with contextlib.suppress(OSError, ValueError, IndexError):
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        # user nice system idle iowait irq softirq steal ...
        totals.update({"host": sum(ticks[:3]) / tick, "irq": (ticks[5] + ticks[6]) / tick})
    totals["wall"] = time.monotonic()
    return totals


def other_share(cpu: Counter, groups) -> float:
    """Share of the host's process CPU in `cpu` (a difference of samples) none of `groups` used."""
    ours = sum(cpu[name] for name in groups)
    return max(0.0, cpu["host"] - ours) / cpu["host"] if cpu["host"] else 0.0


def print_table(rows: list[tuple[str, Counter, int]], groups: tuple, note: str) -> float:
    """Per (label, CPU difference, responses): CPU ms per response of each group, of other
    processes and of interrupts, and how busy all cores were; a WARNING when others took much.
    Returns the share of the host's process CPU that other processes took."""
    columns = (*groups, "other", "irq", "busy")
    print(f"{'CPU ms/response':<22}" + "".join(f"{name:>10}" for name in columns))
    total = Counter()
    for label, cpu, responses in rows:
        total.update(cpu)
        per = [max(0.0, cpu[name]) * 1000 / responses if responses else 0.0 for name in groups]
        host, irq = (cpu[name] * 1000 / responses if responses else 0.0 for name in ("host", "irq"))
        busy = (
            (cpu["host"] + cpu["irq"]) / cpu["wall"] / (os.cpu_count() or 1) if cpu["wall"] else 0
        )
        cells = (*per, max(0.0, host - sum(per)), irq)
        print(f"{label:<22}" + "".join(f"{v:>10.2f}" for v in cells) + f"{busy:>10.0%}")
    print(f"  {note}; other: other processes; irq: kernel interrupts, mostly loopback TCP; busy: "
          "share of all cores")  # fmt: skip
    if (share := other_share(total, groups)) > OTHER_SHARE_WARNING:
        print(
            f"WARNING: other processes took {share:.0%} of the host's process CPU during the "
            "load; the figures are lower than this code on a quiet host"
        )
    return share

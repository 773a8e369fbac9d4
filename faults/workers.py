"""The stack's gunicorn masters and their workers, read from /proc (Linux)."""

import contextlib
import os
import time
from pathlib import Path


def masters(stack) -> list[int]:
    return [p.pid for name, p in stack.processes.items() if name.startswith("gunicorn-")]


def children(pid: int) -> list[int]:
    """Live child processes of `pid` (zombies left out: a killed worker not yet reaped)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return sorted(found)


def workers_by_master(stack) -> dict[int, list[int]]:
    return {master: children(master) for master in masters(stack)}


def wait_for_workers(stack, per_master: int, gone: set, timeout: float = 30.0) -> float | None:
    """Seconds until every master runs `per_master` workers, none of them in `gone`; None if
    that did not happen within `timeout`."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        current = workers_by_master(stack)
        if all(len(pids) == per_master and not gone & set(pids) for pids in current.values()):
            return time.monotonic() - began
        time.sleep(0.1)
    return None


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

"""Processes on loopback: free ports, throw-away run folders, children that die with their parent,
readiness waits, stopping, and scripts that stop what they started when interrupted."""

import contextlib
import ctypes
import functools
import http.client
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess  # nosec B404
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1
RUN_PREFIX = "lms-run-"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_port() -> int:
    """A free port below the kernel's ephemeral range, for a server to listen on. A port from
    `free_port` is in that range: by the time the server starts (or restarts on it), it may be
    the source port of some client's connection, or of one of the thousands a load leaves in
    TIME_WAIT for a minute, and the server could not bind it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        port = random.randint(max(1024, low - 20_000), low - 1)
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind((HOST, port))
            return port
    raise RuntimeError("no free port below the ephemeral range")


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Linux: this process gets `signum` when its parent dies, however the parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signum)


def spawn(command: list, *, log: Path | None = None, death=signal.SIGTERM, **popen):
    """`command` as a child that gets `death` when this process dies, output appended to `log`.
    Linux sends it when the *thread* that spawned it ends: spawn from a thread that outlives the
    child (the main thread), never from a pool thread."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(  # nosec B603
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=functools.partial(die_with_parent, death),
            **popen,
        )
    finally:
        if not isinstance(out, int):
            out.close()


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """A short command that must succeed; its output captured."""
    kwargs.setdefault("capture_output", True)
    return subprocess.run(command, check=True, **kwargs)  # nosec B603


def wait_until(check, what: str, processes: dict, timeout: float = READY_TIMEOUT) -> None:
    """Poll `check()` until true; fail at once if one of `processes` exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while {what}")
        with contextlib.suppress(OSError, http.client.HTTPException, ssl.SSLError):
            if check():
                return
        time.sleep(0.05)
    raise RuntimeError(f"timed out {what}")


def stop(processes: dict, timeout: float = 10.0, signum=signal.SIGTERM) -> None:
    """`signum` to every process, then SIGKILL to those still running after `timeout`."""
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signum)
    for process in processes.values():
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_dir(*folders: str) -> Path:
    """A fresh folder readable by nginx's and PostgreSQL's unprivileged users, with `folders`.

    Its name holds this process's id: folders of runs that were SIGKILLed are removed here."""
    for old in Path(tempfile.gettempdir()).glob(f"{RUN_PREFIX}*-*"):
        pid = old.name.removeprefix(RUN_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-"))
    path.chmod(0o755)
    for folder in folders:
        (path / folder).mkdir(parents=True)
    return path


def script_main(main) -> None:
    """Run `main` as a script: SIGTERM, SIGHUP and Ctrl-C unwind it, so what it started stops."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; every process started was stopped", file=sys.stderr)
        sys.exit(130)

"""Private PostgreSQL and Redis servers on free loopback ports, in a throw-away folder: the faults
are done to these, never to the machine's shared servers (which other test runs use meanwhile).

Both run in the foreground as children of this process, with a parent-death signal, so a killed
run takes them along. PostgreSQL keeps fsync on: the runs check that answered writes survive.
"""

import contextlib
import ctypes
import functools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1
DATABASE = "faults"
FOLDER_PREFIX = "lms-faults-"
# initdb and the server refuse to run as root; as root they run as this OS user.
POSTGRES_OS_USER = "postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def die_with_parent(signum: int) -> None:
    """Linux: this process gets `signum` when its parent dies, however the parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signum)


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL under /usr/lib/postgresql (Debian's layout), else from PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("initdb not found (install postgresql)")
    return Path(initdb).parent


@dataclass
class Postgres:
    """A cluster of its own: trust authentication, TCP on loopback only, no Unix socket."""

    data_dir: Path
    port: int
    log_path: Path
    bin_dir: Path = field(default_factory=postgres_bin_dir)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/{DATABASE}"

    def _as_owner(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": POSTGRES_OS_USER, "group": POSTGRES_OS_USER, "extra_groups": []}

    def init(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(POSTGRES_OS_USER)
            os.chown(self.data_dir.parent, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            [
                str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                "-A", "trust", "-E", "UTF8", "--locale=C",
            ],
            check=True,
            capture_output=True,
            **self._as_owner(),
        )  # fmt: skip

    def start(self) -> float:
        """Start the server; returns the seconds until it accepted a connection."""
        began = time.monotonic()
        log = open(self.log_path, "a")  # noqa: SIM115 - the child keeps the descriptor
        self.process = subprocess.Popen(
            [
                str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                "-c", f"listen_addresses={HOST}", "-c", "unix_socket_directories=",
                "-c", "max_connections=60", "-c", "fsync=on",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            # Immediate shutdown if this run dies: the cluster is thrown away anyway.
            preexec_fn=functools.partial(die_with_parent, signal.SIGQUIT),
            **self._as_owner(),
        )  # fmt: skip
        log.close()
        self.wait_ready()
        return time.monotonic() - began

    def accepts(self) -> bool:
        import psycopg2

        try:
            psycopg2.connect(
                host=HOST, port=self.port, user="postgres", dbname="postgres", connect_timeout=1
            ).close()
        except psycopg2.OperationalError:
            return False
        return True

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}")
            if self.accepts():
                return
            time.sleep(0.05)
        raise RuntimeError("postgres did not accept connections in time")

    def stop(self, mode: str = "fast") -> float:
        """`pg_ctl stop -m <mode>`, as an operator would; returns the seconds it took."""
        began = time.monotonic()
        if self.process is not None and self.process.poll() is None:
            subprocess.run(
                [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", mode, "-w"],
                check=True,
                capture_output=True,
                timeout=STOP_TIMEOUT,
                **self._as_owner(),
            )
            self.process.wait(timeout=STOP_TIMEOUT)
        return time.monotonic() - began

    def restart(self) -> tuple[float, float]:
        """What `pg_ctl restart -m fast` does (stop fast, start), keeping the server this run's
        child; returns the seconds of stopping and of starting."""
        return self.stop("fast"), self.start()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Redis:
    """No persistence (--save "" --appendonly no): a restarted server comes back empty."""

    port: int
    work_dir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> float:
        began = time.monotonic()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.work_dir),
                "--logfile", str(self.work_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # SIGKILL: it also ends a server left stopped (SIGSTOP) by a freeze.
            preexec_fn=functools.partial(die_with_parent, signal.SIGKILL),
        )  # fmt: skip
        self.wait_ready()
        return time.monotonic() - began

    def answers(self) -> bool:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: redis-py's client retries thrice with backoff by default.
        client = redis.Redis(
            host=HOST, port=self.port, socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self.answers():
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer in time")

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but never answered."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _remove_leftovers() -> None:
    """Folders of earlier runs that were SIGKILLed (their servers died with them; the files
    stayed): the owner's pid is in the name."""
    for folder in Path(tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*-*"):
        pid = folder.name.removeprefix(FOLDER_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def private_servers():
    """A private PostgreSQL cluster and Redis server; stopped and deleted on the way out."""
    _remove_leftovers()
    root = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
    root.chmod(0o755)  # the postgres OS user must reach its folder inside
    postgres = Postgres(root / "pg" / "data", free_port(), root / "postgres.log")
    redis = Redis(free_port(), root / "redis")
    try:
        postgres.init()
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.kill()
        shutil.rmtree(root, ignore_errors=True)

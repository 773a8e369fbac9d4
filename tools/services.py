"""Private PostgreSQL and Redis servers on free loopback ports, in a run's folder: what a run does
to them (restart, stop, freeze, drop) never touches the machine's shared servers.

Both run in the foreground as children of this process and die with it. PostgreSQL keeps fsync
on (the fault runs check that answered writes survive); Redis keeps nothing on disk.
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess  # nosec B404
from dataclasses import dataclass, field
from pathlib import Path

from tools.procs import HOST, ROOT, run, server_port, spawn, stop, wait_until

STOP_TIMEOUT = 30.0
APP_ROLE_SCRIPT = ROOT / "scripts" / "postgres-app-role.sh"
# initdb and the server refuse to run as root; as root they run as this OS user.
POSTGRES_OS_USER = "postgres"


def postgres_bin_dir() -> Path:
    """The newest PostgreSQL under /usr/lib/postgresql (Debian's layout), else from PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    found = found or [Path(path) for path in [shutil.which("initdb")] if path]
    if not found:
        raise RuntimeError("initdb not found (install postgresql)")
    return found[-1].parent


@dataclass
class Postgres:
    """A cluster of its own: superuser `postgres`, trust authentication, TCP on loopback only."""

    data_dir: Path
    port: int = field(default_factory=server_port)
    bin_dir: Path = field(default_factory=postgres_bin_dir)
    process: subprocess.Popen | None = None

    def url(self, database="postgres", user="postgres", password="") -> str:  # nosec B107
        login = f"{user}:{password}" if password else user
        return f"postgres://{login}@{HOST}:{self.port}/{database}"

    def _as_owner(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": POSTGRES_OS_USER, "group": POSTGRES_OS_USER, "extra_groups": []}

    def init(self) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam(POSTGRES_OS_USER)
            os.chown(self.data_dir.parent, owner.pw_uid, owner.pw_gid)
        initdb = [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres"]
        run([*initdb, "-A", "trust", "-E", "UTF8", "--locale=C"], **self._as_owner())

    def start(self) -> None:
        self.process = spawn(
            [
                str(self.bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                "-c", f"listen_addresses={HOST}", "-c", "unix_socket_directories=",
                "-c", "max_connections=60", "-c", "fsync=on",
            ],
            log=self.data_dir.parent / "postgres.log",
            death=signal.SIGQUIT,  # immediate shutdown: the cluster is thrown away anyway
            **self._as_owner(),
        )  # fmt: skip
        wait_until(self.accepts, "starting postgres", {"postgres": self.process})

    def connect(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(database), connect_timeout=1, autocommit=True)

    def accepts(self) -> bool:
        import psycopg

        with contextlib.suppress(psycopg.OperationalError):
            self.connect().close()
            return True
        return False

    def execute(self, statement: str) -> None:
        with contextlib.closing(self.connect()) as conn, conn.cursor() as cursor:
            cursor.execute(statement)

    def drop(self, database: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def app_database(self, name: str, role: str, password: str) -> str:
        """A database owned by the application's own role, both made by
        scripts/postgres-app-role.sh as compose's PostgreSQL does; the role's URL for it."""
        env = {
            **os.environ, "PGHOST": HOST, "PGPORT": str(self.port), "POSTGRES_USER": "postgres",
            "POSTGRES_DB": name, "POSTGRES_APP_USER": role, "POSTGRES_APP_PASSWORD": password,
        }  # fmt: skip
        run(["sh", str(APP_ROLE_SCRIPT)], env=env)
        return self.url(name, role, password)

    def stop(self, mode: str = "fast") -> None:
        """`pg_ctl stop -m <mode>`, as an operator would."""
        if self.process is not None and self.process.poll() is None:
            pg_ctl = [str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir)]
            run([*pg_ctl, "-m", mode, "-w"], timeout=STOP_TIMEOUT, **self._as_owner())
            self.process.wait(timeout=STOP_TIMEOUT)

    def restart(self) -> None:
        """What `pg_ctl restart -m fast` does, keeping the server this process's child."""
        self.stop("fast")
        self.start()

    def kill(self) -> None:
        stop({"postgres": self.process} if self.process else {}, STOP_TIMEOUT, signal.SIGQUIT)


@dataclass
class Redis:
    """No persistence: a restarted server comes back empty."""

    work_dir: Path
    port: int = field(default_factory=server_port)
    process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://{HOST}:{self.port}/{db}"

    def start(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.process = spawn(
            [
                "redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(self.work_dir),
                "--logfile", str(self.work_dir / "redis.log"),
            ],
            death=signal.SIGKILL,  # it also ends a server left stopped (SIGSTOP) by a freeze
        )  # fmt: skip
        try:
            wait_until(self.answers, "starting redis-server", {"redis": self.process})
        except RuntimeError as error:
            log = self.work_dir / "redis.log"
            tail = log.read_text().splitlines()[-3:] if log.exists() else []
            raise RuntimeError(f"{error} on port {self.port}: {' / '.join(tail)}") from None

    def client(self):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No retries: redis-py's client retries thrice with backoff by default.
        retry = Retry(NoBackoff(), 0)
        return redis.Redis(host=HOST, port=self.port, socket_timeout=0.5, retry=retry)

    def answers(self) -> bool:
        import redis

        with contextlib.closing(self.client()) as client, contextlib.suppress(redis.RedisError):
            return bool(client.ping())
        return False

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel but never answered."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            stop({"redis": self.process}, STOP_TIMEOUT)


@contextlib.contextmanager
def services(run_dir: Path):
    """A private PostgreSQL cluster and Redis server in `run_dir`; stopped on the way out."""
    postgres, redis = Postgres(run_dir / "pg" / "data"), Redis(run_dir / "redis")
    try:
        postgres.init()
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.kill()

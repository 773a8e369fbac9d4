"""The server `make fuzz` attacks: gunicorn on loopback with PostgreSQL and Redis, seeded demo data.

Settings are `config.settings.local` driven by the environment (see fuzz/README.md for why not
production): DEBUG off, a database of its own per run, a key prefix of its own in Redis.
"""

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
POSTGRES_URL = os.environ.get("FUZZ_POSTGRES_URL", f"postgres://postgres@{HOST}:5432")
REDIS_URL = os.environ.get("FUZZ_REDIS_URL", f"redis://{HOST}:6379/0")
READY_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1

# Credential endpoints are throttled per IP and per account; every fuzzing request comes from
# 127.0.0.1, so the real rates would turn most of them into 429s that hide real findings. 429
# stays documented in the schema, and its shape is checked by the throttle tests.
THROTTLE_SCOPES = (
    "LOGIN_IP", "LOGIN_ACCOUNT", "REGISTER_IP", "REGISTER_ACCOUNT", "REFRESH_IP",
    "REFRESH_SESSION", "PASSWORD_RESET_IP", "PASSWORD_RESET_ACCOUNT", "AVAILABILITY_IP",
    "SOCIAL_IP", "IMAGE_UPLOAD", "VIDEO_UPLOAD",
)  # fmt: skip
# Folders the server writes uploads to; restored with the database on every reset.
FILE_FOLDERS = ("media", "protected")
# seed_demo has no video; one uploaded by the tutor lets stream, events and progress be reached.
SEED_VIDEO = """
from django.core.files.uploadedfile import SimpleUploadedFile
from accounts.models import CustomUser
from videos.services.videos import video_upload

data = open("videos/tests/fixtures/tiny.mp4", "rb").read()
video_upload(
    owner=CustomUser.objects.get(email="tutor@example.com"),
    file=SimpleUploadedFile("tiny.mp4", data, content_type="video/mp4"),
    title="Fuzz sample",
)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Linux: gunicorn gets SIGTERM if the fuzz run is killed before it can stop it itself.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _postgres_admin(statement: str) -> None:
    import psycopg2

    url = urlsplit(POSTGRES_URL)
    conn = psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, password=url.password,
        dbname="postgres",
    )  # fmt: skip
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement)
    finally:
        conn.close()


def _cache_clear(prefix: str) -> None:
    """Drop this run's keys only (throttle counters, cached users and revocations)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@dataclass
class Server:
    """One gunicorn serving `database`; `start()` and `stop()` may be called again."""

    run_dir: Path
    database: str
    template: str
    port: int
    cache_prefix: str
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    jwt_signing_key: str = field(default_factory=lambda: secrets.token_urlsafe(50))
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.run_dir / "server.log"

    def env(self, database: str | None = None) -> dict:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "false",  # errors answer as in production: the envelope, no traceback
            "DJANGO_SECRET_KEY": self.secret_key,
            "JWT_SIGNING_KEY": self.jwt_signing_key,
            "DJANGO_ALLOWED_HOSTS": HOST,
            "DATABASE_URL": f"{POSTGRES_URL}/{database or self.database}",
            "REDIS_URL": REDIS_URL,
            "CACHE_KEY_PREFIX": self.cache_prefix,
            "MEDIA_ROOT": str(self.run_dir / "media"),
            "PROTECTED_MEDIA_ROOT": str(self.run_dir / "protected"),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            # Only the sandbox: no request ever leaves loopback (social login stays unconfigured,
            # so it answers 404 `unknown_provider` without calling Google or Kakao).
            "PAYMENT_PROVIDERS": "sandbox",
            "FRONTEND_URL": self.base_url,
            "PAYMENT_SANDBOX_BASE_URL": self.base_url,
            # Tokens outlive a role's run: schemathesis logs in again only after a real logout.
            "ACCESS_TOKEN_LIFETIME_SECONDS": "3600",
            # Cheap hashes: login and register are fuzzed hundreds of times on two cores.
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST_KIB": "8192",
            "ARGON2_PARALLELISM": "1",
            "LOG_LEVEL": "WARNING",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update({f"THROTTLE_{scope}": "100000/min" for scope in THROTTLE_SCOPES})
        return env

    def manage(self, *args: str, database: str | None = None) -> str:
        result = subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(database),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)}: {result.stderr[-3000:]}")
        return result.stdout

    def prepare(self) -> None:
        """Migrate and seed once into a template; each `reset()` copies it in a moment."""
        _postgres_admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        _postgres_admin(f'CREATE DATABASE "{self.template}"')
        self.manage("migrate", "--no-input", database=self.template)
        self.manage("seed_demo", database=self.template)
        self.manage("shell", "-c", SEED_VIDEO, database=self.template)
        for folder in FILE_FOLDERS:
            shutil.copytree(self.run_dir / folder, self.run_dir / "seed" / folder)

    def reset(self) -> None:
        """Fresh seeded data, files and cache: every role fuzzes the same starting state."""
        _postgres_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        _postgres_admin(f'CREATE DATABASE "{self.database}" TEMPLATE "{self.template}"')
        for folder in FILE_FOLDERS:
            shutil.rmtree(self.run_dir / folder)
            shutil.copytree(self.run_dir / "seed" / folder, self.run_dir / folder)
        _cache_clear(self.cache_prefix)

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 (gunicorn writes to it until stop())
        self.process = subprocess.Popen(  # noqa: S603 (fixed arguments)
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                f"--bind={HOST}:{self.port}", "--workers=2", "--worker-class=sync",
                "--timeout=60", f"--chdir={ROOT}", "--log-level=warning",
                # No request-line or header-size limit: gunicorn's own 414/400 pages are HTML from
                # the transport, not answers of the API under test (see fuzz/README.md).
                "--limit-request-line=0", "--limit-request-field_size=0",
            ],
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see log")
            with contextlib.suppress(OSError):
                if self.request("GET", "/api/health/")[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError("timed out waiting for gunicorn")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def destroy(self) -> None:
        self.stop()
        with contextlib.suppress(Exception):
            _postgres_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            _postgres_admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        with contextlib.suppress(Exception):
            _cache_clear(self.cache_prefix)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def access_token(self, login: str, password: str) -> str:
        credentials = {"login": login, "password": password}
        status, body = self.request("POST", "/api/auth/login/", credentials)
        if status != 200:
            raise RuntimeError(f"login as {login}: {status} {body}")
        return body["access"]


@contextlib.contextmanager
def live_server(run_dir: Path):
    """A prepared (migrated, seeded) server, not yet started; everything is removed afterwards."""
    database = f"fuzz_{os.getpid()}"
    server = Server(
        run_dir=run_dir,
        database=database,
        template=f"{database}_seed",
        port=free_port(),
        cache_prefix=f"fuzz-{secrets.token_hex(4)}",
    )
    for folder in FILE_FOLDERS:
        (run_dir / folder).mkdir(parents=True, exist_ok=True)
    try:
        server.prepare()
        yield server
    finally:
        server.destroy()

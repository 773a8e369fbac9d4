"""The Django processes, each started one way: `manage()` for a command, `gunicorn()` for the WSGI
server and `asgi()` for the chat sockets' server, both with the container's
docker/gunicorn.conf.py. The Celery worker belongs here too, as `worker(env, log)` returning its
process, which `tools.stack.stack()` then starts next to gunicorn."""

import contextlib
import http.client
import os
import secrets
import signal
import subprocess  # nosec B404
import sys
from pathlib import Path

from tools.procs import HOST, ROOT, spawn, wait_until

GUNICORN_CONF = ROOT / "docker" / "gunicorn.conf.py"
SERVER_NAME = "localhost"
PROTECTED_PREFIX = "/protected-videos/"
# What nginx tells the application; a client talking to gunicorn directly sends it too.
PROXIED = {"X-Forwarded-Proto": "https"}
# The environment before any run's settings: tools.fixtures.django_setup() copies a stack's into
# os.environ, which a second stack of the same process (e2e's chat stack) must not inherit.
ENVIRON_AT_START = dict(os.environ)


def django_env(run_dir: Path, database_url: str, redis_url: str, **overrides: str) -> dict:
    """Production settings as deployed behind nginx, with random secrets and the run's folders."""
    return {
        **ENVIRON_AT_START,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        **{
            name: secrets.token_urlsafe(50)
            for name in ("DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "MEDIA_SIGNING_KEY")
        },
        "DJANGO_ALLOWED_HOSTS": f"{SERVER_NAME},{HOST}",
        "DATABASE_URL": database_url, "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": f"run-{secrets.token_hex(4)}",
        "STATIC_ROOT": str(run_dir / "static"), "MEDIA_ROOT": str(run_dir / "media"),
        "PROTECTED_MEDIA_ROOT": str(run_dir / "protected"),
        "PROTECTED_ACCEL_REDIRECT_PREFIX": PROTECTED_PREFIX,
        "NUM_PROXIES": "1",
        "KAKAOPAY_SECRET_KEY": secrets.token_urlsafe(16),  # required; never used on loopback
        "PAYMENT_CALLBACK_BASE_URL": f"https://{SERVER_NAME}/payments",  # frontend routes
        "PUBLIC_BASE_URL": f"https://{SERVER_NAME}",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONDONTWRITEBYTECODE": "1",
        # The container's access log (docker/gunicorn.conf.py) only where a test reads it: off
        # elsewhere, so benchmarks and fault runs measure the application.
        "GUNICORN_ACCESS_LOG": "",
        **overrides,
    }  # fmt: skip


def manage(env: dict, *args: str, input: str | None = None) -> str:
    """A manage.py command with `env`; its standard output."""
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(  # nosec B603
        command, cwd=ROOT, env=env, input=input, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)}: {result.stderr[-3000:]}")
    return result.stdout


def gunicorn(env: dict, port: int, log: Path, *, workers: int = 2, extra: tuple = (),
             app: str = "config.wsgi:application"):  # fmt: skip
    """gunicorn with the container's settings file; the command line picks the loopback port,
    sync workers (threads would make them gthread) and no worker recycling mid-run. `app` is
    the WSGI application (bench's true floor serves another project's)."""
    return spawn(
        [
            sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
            f"--bind={HOST}:{port}", f"--workers={workers}", "--worker-class=sync",
            "--threads=1", "--max-requests=0", f"--chdir={ROOT}", "--log-level=warning",
            *extra, app,
        ],
        log=log,
        env=env,
        cwd=ROOT,
    )  # fmt: skip


ASGI_WORKER = "config.asgi_worker.ChatUvicornWorker"


def asgi(env: dict, port: int, log: Path, *, workers: int = 1, extra: tuple = ()):
    """The `ws` service as deployed: gunicorn with uvicorn workers on config.asgi (HTTP answers
    there too, so `wait_healthy` works on it)."""
    return spawn(
        [
            sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
            f"--bind={HOST}:{port}", f"--workers={workers}", f"--worker-class={ASGI_WORKER}",
            "--max-requests=0", f"--chdir={ROOT}", "--log-level=warning",
            *extra, "config.asgi:application",
        ],
        log=log,
        env=env,
        cwd=ROOT,
    )  # fmt: skip


def celery_worker(env: dict, log: Path, *, queue: str = "celery", concurrency: int = 1):
    """The `worker` service as deployed (`celery -A config worker`), on `queue`; ready once its
    log says so (`wait_worker_ready`)."""
    return spawn(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", f"--queues={queue}",
            f"--concurrency={concurrency}", "--loglevel=INFO", "--without-gossip",
            "--without-mingle", f"--hostname={queue}@%h",
        ],
        log=log,
        env=env,
        cwd=ROOT,
        death=signal.SIGKILL,
    )  # fmt: skip


def celery_beat(env: dict, log: Path, schedule: Path):
    """The `beat` service as deployed (`celery -A config beat`), its schedule state in
    `schedule`; it has started once its log says "beat: Starting"."""
    return spawn(
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
         f"--schedule={schedule}"],
        log=log,
        env=env,
        cwd=ROOT,
    )  # fmt: skip


def worker_starts(log: Path) -> int:
    """How many times a worker logging to `log` has said it is ready."""
    return log.read_text(errors="replace").count(" ready.") if log.exists() else 0


def wait_worker_ready(log: Path, process, timeout: float = 60.0, *, after: int = 0) -> None:
    """Until the worker says it is ready for the (`after` + 1)th time in `log`."""

    def ready() -> bool:
        return worker_starts(log) > after

    try:
        wait_until(ready, "starting the celery worker", {"worker": process}, timeout=timeout)
    except RuntimeError as failed:
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
        raise RuntimeError(f"{failed}; its log ends:\n{tail}") from None


def healthy(port: int) -> bool:
    with contextlib.closing(http.client.HTTPConnection(HOST, port, timeout=5)) as conn:
        conn.request("GET", "/api/health/", headers=PROXIED)
        return conn.getresponse().status == 200


def wait_healthy(port: int, processes: dict) -> None:
    wait_until(lambda: healthy(port), f"waiting for the application on {port}", processes)

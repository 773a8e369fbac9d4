"""How the floor is served: the command line of tools.app.gunicorn with only the WSGI app (and, in
the environment, DJANGO_SETTINGS_MODULE) changed, and the check that it answers as the floor."""

import contextlib
import http.client
import json
import sys
from pathlib import Path

from bench.floor import FLOOR_BODY, FLOOR_PATH, WSGI_APP
from tools.app import GUNICORN_CONF
from tools.procs import HOST, ROOT, spawn


def gunicorn(env: dict, port: int, log: Path, *, workers: int = 2):
    """tools.app.gunicorn's command line serving the floor (that function takes no app module;
    keep the two in step)."""
    return spawn(
        [
            sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
            f"--bind={HOST}:{port}", f"--workers={workers}", "--worker-class=sync",
            "--threads=1", "--max-requests=0", f"--chdir={ROOT}", "--log-level=warning",
            WSGI_APP,
        ],
        log=log,
        env=env,
        cwd=ROOT,
    )  # fmt: skip


def get(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    with contextlib.closing(http.client.HTTPConnection(HOST, port, timeout=5)) as conn:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()


def answers(port: int, headers: dict) -> bool:
    """The floor's view answers its body (what the wait for readiness polls)."""
    status, body = get(port, FLOOR_PATH, headers)
    return status == 200 and json.loads(body) == FLOOR_BODY

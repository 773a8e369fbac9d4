"""How the floor answers: the check that it serves its body (it is started by tools.app.gunicorn
with its own WSGI app and, in the environment, DJANGO_SETTINGS_MODULE)."""

import contextlib
import http.client
import json

from bench.floor import FLOOR_BODY, FLOOR_PATH
from tools.procs import HOST


def get(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    with contextlib.closing(http.client.HTTPConnection(HOST, port, timeout=5)) as conn:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()


def answers(port: int, headers: dict) -> bool:
    """The floor's view answers its body (what the wait for readiness polls)."""
    status, body = get(port, FLOOR_PATH, headers)
    return status == 200 and json.loads(body) == FLOOR_BODY

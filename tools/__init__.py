"""The one launcher of what bench/, e2e/, faults/ and fuzz/ run against, all on loopback.

procs     free ports, run folders, children that die with their parent, readiness waits
services  private PostgreSQL cluster and Redis server (`services()`)
app       the Django processes: `gunicorn()` (an ASGI server and a Celery worker go next to it)
nginx     nginx rendered from nginx/templates as the official image renders it
stack     `stack()`: services + gunicorn instances + nginx; `edge_only()`: nginx alone
clients   spawned client processes, a keep-alive HTTP(S) client and what each request got
cpu       CPU per process group and of the host, from /proc
fixtures  data and database checks bench/ and faults/ share (Django, in this process)
flows     a vote and a checkout as a client sends them
"""

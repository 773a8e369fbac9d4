"""gunicorn settings for the container (the Dockerfile's CMD); GUNICORN_* variables override each.

Kept out of the repository root: gunicorn reads ./gunicorn.conf.py from its working directory by
itself, which would silently change the servers bench/ and e2e/ start from the root.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


# Port 8000 is not published: only nginx on the compose network reaches it.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# workers x threads requests run at once. Threads keep a slow upload (nginx streams request
# bodies, proxy_request_buffering off) from holding a whole process; each login also needs
# ARGON2_MEMORY_COST_KIB of memory while it hashes, so size both to the host.
# The `ws` service (chat sockets) picks config.asgi_worker.ChatUvicornWorker on its command line,
# which wins over this; there threads do not apply, and GUNICORN_MAX_REQUESTS=0 keeps a worker
# from being recycled with its sockets open.
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 3)
threads = _int("GUNICORN_THREADS", 2)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than nginx's 60 s idle time for upstream keep-alive connections: nginx closes them
# first, so it never sends a request on a connection gunicorn is closing (a 502 for a POST).
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Recycling workers now and then bounds slow memory growth; the jitter avoids all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)

# nginx is the only client (see bind), so its X-Forwarded-Proto is trusted whatever its address.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")

# Logs go to stdout/stderr for `docker compose logs` (GUNICORN_ACCESS_LOG empty: no access log,
# nginx logs every request too). The client is X-Real-IP, the address nginx saw: the first entry
# of X-Forwarded-For is whatever the client chose to send.
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
access_log_format = '%({x-real-ip}i)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The worker heartbeat file on a disk-backed overlay filesystem can stall workers; /dev/shm is
# memory.
if os.path.isdir("/dev/shm"):  # noqa: S108  # nosec B108
    worker_tmp_dir = "/dev/shm"  # noqa: S108  # nosec B108
# Nothing uses gunicornc, and the socket would need a writable home directory.
control_socket_disable = True

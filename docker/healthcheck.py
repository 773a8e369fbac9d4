"""Docker HEALTHCHECK: GET /api/health/live/ (liveness: no database or cache) from inside the web
or ws container (config.asgi answers HTTP too); exit 0 only on 200."""

import http.client
import os
import sys


def main() -> int:
    # Production settings refuse unknown hosts and redirect plain HTTP to HTTPS; nginx sends an
    # allowed Host and X-Forwarded-Proto, so the check sends the same.
    host = os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",")[0].strip().lstrip(".")
    if host in ("", "*"):
        host = "localhost"
    port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rpartition(":")[2]
    connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=4)
    try:
        connection.request(
            "GET", "/api/health/live/", headers={"Host": host, "X-Forwarded-Proto": "https"}
        )
        response = connection.getresponse()
        body = response.read(500).decode(errors="replace")
    except OSError as error:
        print(f"health check: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f"health check: {response.status} {body}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

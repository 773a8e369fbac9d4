#!/bin/sh
# Start of the web container: wait for the database, then (each when switched on) apply migrations
# and refresh the shared static files, then run the command (gunicorn by default).
set -eu
cd "$(dirname "$0")/.."

# Bounded: a database that never comes up must fail the container visibly, not hang it. The URL
# is parsed by django-environ, as the settings do; a non-PostgreSQL URL has nothing to wait for.
python - <<'PY'
import os
import sys
import time

import environ
import psycopg

url = os.environ.get("DATABASE_URL", "")
config = environ.Env.db_url_config(url) if url else {}
if "postgresql" not in config.get("ENGINE", ""):
    sys.exit(0)
params = {
    "dbname": config.get("NAME"),
    "user": config.get("USER"),
    "password": config.get("PASSWORD"),
    "host": config.get("HOST"),
    "port": config.get("PORT"),
    **config.get("OPTIONS", {}),
}
params = {key: value for key, value in params.items() if value not in (None, "")}
limit = float(os.environ.get("DB_WAIT_TIMEOUT", "60"))
deadline = time.monotonic() + limit
while True:
    try:
        psycopg.connect(connect_timeout=3, **params).close()
        break
    except psycopg.OperationalError as error:
        if time.monotonic() >= deadline:
            reason = str(error).strip()
            print(f"entrypoint: database unreachable after {limit:g}s: {reason}", file=sys.stderr)
            sys.exit(1)
        time.sleep(1)
PY

if [ "${DJANGO_MIGRATE_ON_START:-0}" = 1 ]; then
    python manage.py migrate --noinput
fi

# The static volume keeps the files of the image it was first created from; collecting again
# brings it up to date with this image (unchanged files are skipped).
if [ "${DJANGO_COLLECTSTATIC_ON_START:-0}" = 1 ]; then
    python manage.py collectstatic --noinput -v 0
fi

exec "$@"

#!/bin/sh
# The application's own PostgreSQL role: it owns its one database and everything in it, and has no
# other power (not a superuser; no CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS). Idempotent.
#
# Runs as the superuser: by the postgres image when it initialises an empty volume (compose mounts
# this file into /docker-entrypoint-initdb.d/), or by hand on a database an older deployment filled
# as the superuser, whose tables then become the role's:
#
#   docker compose exec db /docker-entrypoint-initdb.d/10-app-role.sh
#
# From a shell, libpq's variables (PGHOST, PGPORT, PGPASSWORD...) say which server; tools/services.py
# runs it that way against the test PostgreSQL.
#
#   POSTGRES_USER          the superuser to connect as (default postgres)
#   POSTGRES_DB            the application's database, created if missing
#   POSTGRES_APP_USER      the application's role, created if missing
#   POSTGRES_APP_PASSWORD  its password, (re)set on every run
set -eu

superuser="${POSTGRES_USER:-postgres}"
database="${POSTGRES_DB:?set POSTGRES_DB}"
app_user="${POSTGRES_APP_USER:?set POSTGRES_APP_USER}"
if [ -z "${POSTGRES_APP_PASSWORD:-}" ]; then
    echo "postgres-app-role: set POSTGRES_APP_PASSWORD (the password in DATABASE_URL)" >&2
    exit 1
fi
if [ "$app_user" = "$superuser" ] || [ "$app_user" = postgres ]; then
    echo "postgres-app-role: POSTGRES_APP_USER must not be the superuser ($app_user)" >&2
    exit 1
fi

# The password travels in the environment (\getenv), never on a command line.
psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 --username "$superuser" --dbname postgres \
    -v app_user="$app_user" -v app_db="$database" <<'SQL'
\getenv app_password POSTGRES_APP_PASSWORD
SELECT format('CREATE ROLE %I', :'app_user')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db') \gexec
ALTER DATABASE :"app_db" OWNER TO :"app_user";
-- Other roles (bar superusers) may not even connect to it.
REVOKE ALL ON DATABASE :"app_db" FROM PUBLIC;

\connect :"app_db"
-- What an earlier deployment created as the superuser becomes the role's. A sequence that
-- belongs to a column (serial, identity) follows its table.
SELECT format(
           'ALTER %s %I.%I OWNER TO %I',
           CASE c.relkind
               WHEN 'S' THEN 'SEQUENCE'
               WHEN 'v' THEN 'VIEW'
               WHEN 'm' THEN 'MATERIALIZED VIEW'
               WHEN 'f' THEN 'FOREIGN TABLE'
               ELSE 'TABLE'
           END,
           n.nspname, c.relname, :'app_user')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public'
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
   AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = :'app_user')
   AND NOT (c.relkind = 'S' AND EXISTS (
       SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
\gexec
SQL
echo "postgres-app-role: $app_user owns database $database"

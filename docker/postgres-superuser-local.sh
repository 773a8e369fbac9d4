#!/bin/sh
# The superuser signs in through the container's Unix socket only (`docker compose exec db psql -U
# postgres`): over the network, where the application and the backup service connect with their
# own role, its name is refused whatever the password. Run by the postgres image when it
# initialises an empty volume (compose mounts this file into /docker-entrypoint-initdb.d/).
set -eu
hba="${PGDATA:?}/pg_hba.conf"
line="host all ${POSTGRES_USER:-postgres} all reject"
grep -qxF "$line" "$hba" || sed -i "1i $line" "$hba"

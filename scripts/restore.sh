#!/bin/sh
# Puts a set made by scripts/backup.sh back: the database and both upload folders, after checking
# the set against its SHA256SUMS. Stop the application first (README "Deployment" shows how).
#
#   scripts/restore.sh [--clean] BACKUP_SET_FOLDER
#
# Needs DATABASE_URL, MEDIA_ROOT and PROTECTED_MEDIA_ROOT (the compose `restore` service sets them).
# The database is restored as the role of DATABASE_URL, which then owns every object. Without
# --clean the database must have no tables and the folders must be empty (a fresh install),
# so live data is never overwritten by mistake; --clean first empties them: the database's public
# schema and everything in the two folders.
set -eu

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit 2
}

clean=0
while [ $# -gt 0 ]; do
    case "$1" in
        --clean) clean=1 ;;
        -h | --help) usage ;;
        -*) echo "restore: unknown option $1" >&2; usage ;;
        *) break ;;
    esac
    shift
done
[ $# -eq 1 ] || usage
set_dir="$1"

database_url="${DATABASE_URL:?set DATABASE_URL}"
media_root="${MEDIA_ROOT:?set MEDIA_ROOT}"
protected_root="${PROTECTED_MEDIA_ROOT:?set PROTECTED_MEDIA_ROOT}"
case "$database_url" in
    postgres://* | postgresql://*) ;;
    pgsql://* | psql://* | postgis://*) database_url="postgresql://${database_url#*://}" ;;
    *) echo "restore: DATABASE_URL is not a PostgreSQL URL" >&2; exit 2 ;;
esac

for file in SHA256SUMS database.dump media.tar protected_media.tar; do
    [ -f "$set_dir/$file" ] || { echo "restore: $set_dir has no $file" >&2; exit 1; }
done
if ! (cd "$set_dir" && sha256sum --check --quiet SHA256SUMS); then
    echo "restore: $set_dir does not match its SHA256SUMS; nothing was changed" >&2
    exit 1
fi

sql() {
    psql --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 \
        --dbname="$database_url" --command="$1"
}

tables="$(sql "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")"
for folder in "$media_root" "$protected_root"; do
    mkdir -p "$folder"
done
if [ "$clean" = 0 ]; then
    if [ "$tables" != 0 ]; then
        echo "restore: the database has $tables tables; --clean replaces them" >&2
        exit 1
    fi
    for folder in "$media_root" "$protected_root"; do
        if [ -n "$(ls -A "$folder")" ]; then
            echo "restore: $folder is not empty; --clean replaces its files" >&2
            exit 1
        fi
    done
else
    # The database's owner may drop and recreate its public schema; nothing outside it is ours.
    sql "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
    for folder in "$media_root" "$protected_root"; do
        find "$folder" -mindepth 1 -delete
    done
fi

# --no-owner --no-privileges: every object belongs to the restoring role, whoever made the dump.
# One transaction: a restore that fails half-way leaves the database as it was.
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname="$database_url" "$set_dir/database.dump"
# As root (the compose service), tar also restores the files' owner: the web container's user.
tar -xf "$set_dir/media.tar" -C "$media_root"
tar -xf "$set_dir/protected_media.tar" -C "$protected_root"
echo "restore: $set_dir restored"

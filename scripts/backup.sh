#!/bin/sh
# One backup set: the database (pg_dump, custom format) and both upload folders, in a folder of
# BACKUP_DIR named by its UTC time, with SHA256SUMS; then only the newest set of each of the last
# BACKUP_KEEP_DAILY days is kept. scripts/restore.sh puts a set back.
#
#   scripts/backup.sh
#
# The compose `backup` service runs it every day (scripts/daily.sh); from a shell it needs the same
# variables:
#   DATABASE_URL          postgres://user:password@host:port/database (the application's own)
#   MEDIA_ROOT            uploaded pictures
#   PROTECTED_MEDIA_ROOT  lecture videos and other access-checked files
#   BACKUP_DIR            where the sets go
#   BACKUP_KEEP_DAILY     days to keep (default 14; 0 keeps every set)
# pg_dump must be as new as the server (the compose service runs the server's own image).
set -eu

database_url="${DATABASE_URL:?set DATABASE_URL}"
media_root="${MEDIA_ROOT:?set MEDIA_ROOT}"
protected_root="${PROTECTED_MEDIA_ROOT:?set PROTECTED_MEDIA_ROOT}"
backup_dir="${BACKUP_DIR:?set BACKUP_DIR}"
keep_daily="${BACKUP_KEEP_DAILY:-14}"

case "$keep_daily" in
    '' | *[!0-9]*) echo "backup: BACKUP_KEEP_DAILY must be a number of days" >&2; exit 2 ;;
esac
# libpq reads postgres:// and postgresql:// URLs; django-environ also knows these aliases.
case "$database_url" in
    postgres://* | postgresql://*) ;;
    pgsql://* | psql://* | postgis://*) database_url="postgresql://${database_url#*://}" ;;
    *) echo "backup: DATABASE_URL is not a PostgreSQL URL" >&2; exit 2 ;;
esac
for folder in "$media_root" "$protected_root"; do
    [ -d "$folder" ] || { echo "backup: no folder $folder" >&2; exit 1; }
done

# The sets hold password hashes and private uploads: readable by their owner only.
umask 077
mkdir -p "$backup_dir"

# One run at a time; the lock goes with the process, however it ends.
exec 9>"$backup_dir/.lock"
if ! flock -n 9; then
    echo "backup: another backup is running in $backup_dir" >&2
    exit 1
fi
# A set is written under a temporary name and renamed once complete, so an interrupted run
# leaves no folder that looks like a backup; leftovers of one are removed here, under the lock.
rm -rf "$backup_dir"/.partial-*

name="$(date -u +%Y-%m-%dT%H%M%SZ)"
partial="$backup_dir/.partial-$name"
trap 'rm -rf "$partial"' EXIT
trap 'exit 130' INT TERM
mkdir "$partial"

# Files written by GNU tar while they change (an upload landing) make it exit 1 with a warning;
# the set is still good. Any other failure is one.
archive() {
    status=0
    tar -cf "$1" -C "$2" . || status=$?
    if [ "$status" = 1 ]; then
        echo "backup: $2 changed while it was archived (uploads during the backup)" >&2
    elif [ "$status" != 0 ]; then
        exit "$status"
    fi
}

# The database first: a file uploaded meanwhile is then an unreferenced extra in the archive,
# never a row pointing at a file the archive lacks.
pg_dump --format=custom --file="$partial/database.dump" --dbname="$database_url"
archive "$partial/media.tar" "$media_root"
archive "$partial/protected_media.tar" "$protected_root"
(cd "$partial" && sha256sum database.dump media.tar protected_media.tar >SHA256SUMS)
mv "$partial" "$backup_dir/$name"
trap - EXIT
echo "backup: $backup_dir/$name"

# Retention: walking the sets newest first, the first one of each day is kept until
# BACKUP_KEEP_DAILY days have one; every other set is removed. Only names this script gives are
# considered, so nothing else in BACKUP_DIR is ever touched.
[ "$keep_daily" -gt 0 ] || exit 0
days=0
last_day=""
for set_name in $(ls -1 "$backup_dir" | grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6}Z$' | sort -r); do
    day="${set_name%%T*}"
    if [ "$day" != "$last_day" ] && [ "$days" -lt "$keep_daily" ]; then
        days=$((days + 1))
        last_day="$day"
        continue
    fi
    rm -rf "${backup_dir:?}/$set_name"
    echo "backup: removed $set_name (keeping $keep_daily days)"
done

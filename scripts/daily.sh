#!/bin/sh
# Runs a command every day at DAILY_AT (HH:MM, UTC), for ever: the clock of the compose service
# `backup`, whose image has no cron (the application's jobs run on Celery beat). A failed run is reported on stderr (in
# `docker compose logs`) and the next day's run happens all the same.
#
#   DAILY_AT=03:30 scripts/daily.sh COMMAND [ARGUMENT...]
#   DAILY_AT=03:30 scripts/daily.sh --next    # seconds until the next run, then exit
set -u

at="${DAILY_AT:-03:30}"
case "$at" in
    [01][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9]) ;;
    *) echo "daily: DAILY_AT must be HH:MM (UTC), not '$at'" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "usage: DAILY_AT=HH:MM $0 COMMAND [ARGUMENT...] | --next" >&2; exit 2; }
hour="${at%:*}"
minute="${at#*:}"
# Without the leading zero: shell arithmetic reads 08 as a bad octal number.
target=$(( ${hour#0} * 3600 + ${minute#0} * 60 ))

seconds_to_next_run() {
    now="$(date -u +%s)"
    wait=$(( (target - now % 86400 + 86400) % 86400 ))
    [ "$wait" -gt 0 ] || wait=86400
    echo "$wait"
}

if [ "$1" = --next ]; then
    seconds_to_next_run
    exit 0
fi

# As PID 1 of a container the shell must end itself on `docker compose stop`; sleeping in the
# background and waiting lets the trap run at once.
trap 'exit 0' TERM INT
echo "daily: '$*' runs every day at $at UTC"
while :; do
    sleep "$(seconds_to_next_run)" &
    wait $!
    started="$(date -u +%FT%TZ)"
    if "$@"; then
        echo "daily: $started '$*' done"
    else
        echo "daily: $started '$*' failed with status $?" >&2
    fi
done

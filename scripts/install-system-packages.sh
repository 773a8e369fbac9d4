#!/bin/sh
# System tools for the tests, the end-to-end suite and the deployment checks (Debian/Ubuntu).
# Installs only what is missing, so on a prepared machine it changes nothing and needs no network.
set -eu

missing=""
# need COMMAND PACKAGE: PACKAGE provides COMMAND (nginx lives in /usr/sbin, off a user's PATH).
need() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || missing="$missing $2"
}
need msgfmt gettext
need envsubst gettext-base
need nginx nginx
need openssl openssl
need chromium chromium
need docker-compose docker-compose
need certbot certbot
# e2e: HTTP/2 (curl), IPv6 clients in a network namespace (ip); backups (pg_dump, psql).
need curl curl
need ip iproute2
need pg_dump postgresql-client
# Transcoding videos in tests and e2e (ffprobe comes with it).
need ffmpeg ffmpeg

if [ -z "$missing" ]; then
    echo "system packages: all present"
    exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo="sudo"
fi
echo "system packages: installing$missing"
$sudo apt-get update -qq
# shellcheck disable=SC2086 # one word per package
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing

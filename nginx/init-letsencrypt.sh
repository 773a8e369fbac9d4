#!/bin/sh
# First Let's Encrypt certificate for the compose stack; renewals are the certbot service's job.
#
#   nginx/init-letsencrypt.sh [--staging] [--force] [DOMAIN [EMAIL]]
#
# DOMAIN and EMAIL default to NGINX_SERVER_NAME and CERTBOT_EMAIL from the environment, then from
# .env (ENV_FILE). nginx cannot start without a certificate file, and certbot needs a running nginx
# to answer the HTTP challenge, so: a self-signed placeholder goes where the certificate will live,
# nginx starts with it, the placeholder is removed, certbot obtains the real certificate through
# nginx, and nginx reloads onto it.
#
# --staging: Let's Encrypt's staging CA (untrusted certificates, generous rate limits) for a trial
# run. --force: replace a certificate certbot already manages (a real one after a staging trial).
# COMPOSE names the compose command ("docker compose" by default; "docker-compose" works too).
set -eu
cd "$(dirname "$0")/.."

COMPOSE="${COMPOSE:-docker compose}"
ENV_FILE="${ENV_FILE:-.env}"
staging=""
force=0

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
    exit "${1:-2}"
}

# Read one variable from the env file without sourcing it: values there are not shell syntax.
env_value() {
    [ -f "$ENV_FILE" ] || return 0
    sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --staging) staging="--staging" ;;
        --force) force=1 ;;
        -h | --help) usage 0 ;;
        -*) echo "unknown option: $1" >&2; usage ;;
        *) break ;;
    esac
    shift
done
[ $# -le 2 ] || usage

domain="${1:-${NGINX_SERVER_NAME:-$(env_value NGINX_SERVER_NAME)}}"
email="${2:-${CERTBOT_EMAIL:-$(env_value CERTBOT_EMAIL)}}"
if [ -z "$domain" ] || [ -z "$email" ]; then
    echo "need a domain and an email: set NGINX_SERVER_NAME and CERTBOT_EMAIL in $ENV_FILE" >&2
    usage
fi
# The domain goes into paths and shell commands run in the containers.
case "$domain" in
    *[!A-Za-z0-9.-]* | -* | .*)
        echo "not a host name: $domain" >&2
        exit 2
        ;;
esac

live="/etc/letsencrypt/live/$domain"
remove_lineage="rm -rf '$live' '/etc/letsencrypt/archive/$domain' '/etc/letsencrypt/renewal/$domain.conf'"

placeholder_certificate() {
    $COMPOSE run --rm --entrypoint sh certbot -c "$remove_lineage && mkdir -p '$live' \
        && openssl req -x509 -nodes -newkey rsa:2048 -days 1 -subj '/CN=localhost' \
            -keyout '$live/privkey.pem' -out '$live/fullchain.pem'"
}

# A renewal configuration exists only for a certificate certbot obtained (never the placeholder).
if [ "$force" = 0 ] \
    && $COMPOSE run --rm --entrypoint test certbot -e "/etc/letsencrypt/renewal/$domain.conf"; then
    echo "$domain already has a certificate, renewed automatically; --force replaces it." >&2
    exit 0
fi

echo "### Placeholder certificate for $domain"
placeholder_certificate

echo "### Starting nginx"
$COMPOSE up -d nginx

# nginx keeps the placeholder loaded; certbot needs the path free to create its own lineage there.
echo "### Removing the placeholder"
$COMPOSE run --rm --entrypoint sh certbot -c "$remove_lineage"

echo "### Requesting the certificate for $domain${staging:+ (staging)}"
# shellcheck disable=SC2086 # $staging is empty or one word
if ! $COMPOSE run --rm --entrypoint certbot certbot certonly --webroot -w /var/www/certbot \
    -d "$domain" --email "$email" --agree-tos --no-eff-email --non-interactive $staging; then
    # Without a file at the certificate path nginx could not start again; put the placeholder back.
    echo "certbot failed; the placeholder is back so nginx can still restart." >&2
    placeholder_certificate
    exit 1
fi

echo "### Reloading nginx"
$COMPOSE exec -T nginx nginx -s reload

#!/bin/sh
# The compose stack's object store (the `objectstore` service, profile "objectstore"): SeaweedFS's
# master, volume server, filer and S3 gateway (`weed server -s3`), data in /data. Only the S3 API
# listens beyond the container (port 8333, on the compose network, never published); the other
# parts, whose APIs know no keys, listen on its loopback only.
#
# Identities (the S3 config, written here from .env): the application's key (S3_ACCESS_KEY_ID,
# S3_SECRET_ACCESS_KEY) may read, write, list and tag S3_BUCKET and S3_PROTECTED_BUCKET, nothing
# else (not even make or delete buckets). A request without a key (nginx's /media-store/) may read
# objects of S3_BUCKET: no listing, no other bucket; and nginx's /stream-store/ may read the video
# streams under S3_PROTECTED_BUCKET/hls/, after checking their signed URLs itself. Nothing else of
# S3_PROTECTED_BUCKET is reached without the application's signature, presigned URLs included
# (nginx's /protected-store/ forwards those).
set -eu

for name in S3_BUCKET S3_PROTECTED_BUCKET S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY; do
    eval "value=\${$name:-}"
    case "$value" in
        "") echo "objectstore: set $name in .env" >&2; exit 1 ;;
        # They go into JSON and command lines unquoted: the characters secrets.token_urlsafe makes.
        *[!A-Za-z0-9._-]*) echo "objectstore: $name may hold only A-Z a-z 0-9 . _ -" >&2; exit 1 ;;
    esac
done
if [ "$S3_BUCKET" = "$S3_PROTECTED_BUCKET" ]; then
    echo "objectstore: S3_PROTECTED_BUCKET must differ from S3_BUCKET" >&2
    exit 1
fi

umask 077
config=/tmp/s3.json
grants=""
for bucket in "$S3_BUCKET" "$S3_PROTECTED_BUCKET"; do
    for action in Read Write List Tagging; do
        grants="$grants\"$action:$bucket\", "
    done
done
cat > "$config" <<JSON
{"identities": [
  {"name": "app",
   "credentials": [{"accessKey": "$S3_ACCESS_KEY_ID", "secretKey": "$S3_SECRET_ACCESS_KEY"}],
   "actions": [${grants%, }]},
  {"name": "anonymous", "actions": ["Read:$S3_BUCKET", "Read:$S3_PROTECTED_BUCKET/hls/*"]}
]}
JSON

weed -logtostderr server -dir=/data -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port=9333 -volume.port=8080 -filer -filer.port=8888 \
    -s3 -s3.port=8333 -s3.ip.bind=0.0.0.0 -s3.config="$config" \
    -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false &
server=$!
trap 'kill -TERM "$server"; wait "$server"; exit 0' TERM INT

# The buckets, on the first start (later starts find them: "already exists" is fine).
until wget -q -O /dev/null http://127.0.0.1:8333/healthz; do
    kill -0 "$server" 2>/dev/null || exit 1
    sleep 1
done
for bucket in "$S3_BUCKET" "$S3_PROTECTED_BUCKET"; do
    echo "s3.bucket.create -name $bucket" | weed shell -master=127.0.0.1:9333
done
touch /tmp/buckets-ready
wait "$server"

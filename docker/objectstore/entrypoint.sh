#!/usr/bin/env bash
# Start SeaweedFS (master, volume, filer and S3 gateway in one process) with one S3 identity
# from S3_ACCESS_KEY / S3_SECRET_KEY, then create the buckets named in S3_BUCKETS. Idempotent:
# on a restart the volume's buckets and objects are kept. The container lives as long as the server.
set -euo pipefail

: "${S3_ACCESS_KEY:?S3_ACCESS_KEY is required (docker/.env)}"
: "${S3_SECRET_KEY:?S3_SECRET_KEY is required (docker/.env)}"
BUCKETS="${S3_BUCKETS:-lakehouse-raw lakehouse}"
# The credentials file lives in the container's /tmp: not in the image, not in the data volume.
config="$(mktemp -d)/s3.json"
cat >"$config" <<JSON
{"identities": [{"name": "lakehouse",
  "credentials": [{"accessKey": "${S3_ACCESS_KEY}", "secretKey": "${S3_SECRET_KEY}"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON

# -ip is what the parts advertise to each other (all in this process). Only the S3 gateway
# (:8333, which checks the identity above) listens on the container's network (-s3.ip.bind);
# the master, volume and filer servers, which have no authentication, and their gRPC ports
# listen on the container's loopback only (-ip.bind=127.0.0.1): other containers cannot reach them.
# -volume.max: every bucket is its own collection, and a collection takes 7 volumes at a time;
# the default limit (8) leaves the second bucket without a writable volume. Volumes are sparse
# files, so the limit costs no disk until data arrives. No telemetry (nothing leaves the host), and
# only the S3 API: SeaweedFS's own Iceberg REST catalog and Lance servers stay off.
weed server -dir=/data -ip=127.0.0.1 -ip.bind=127.0.0.1 -s3.ip.bind=0.0.0.0 -volume.preStopSeconds=1 -volume.max="${S3_MAX_VOLUMES:-128}" \
  -master.volumeSizeLimitMB="${S3_VOLUME_SIZE_LIMIT_MB:-1024}" \
  -master.telemetry=false -s3 -s3.port=8333 -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$config" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server"' TERM INT

buckets() { echo "s3.bucket.list" | weed shell -master=127.0.0.1:9333 2>/dev/null | awk '{print $1}'; }
created=0
for _ in $(seq 1 240); do
  kill -0 "$server" 2>/dev/null || { echo "objectstore: weed server exited" >&2; exit 1; }
  if /usr/local/bin/healthcheck.sh --gateway-only 2>/dev/null; then
    existing="$(buckets)"
    for bucket in $BUCKETS; do
      grep -qx -- "$bucket" <<<"$existing" \
        || echo "s3.bucket.create -name $bucket" | weed shell -master=127.0.0.1:9333 >/dev/null
    done
    created=1
    break
  fi
  sleep 0.5
done
[ "$created" = 1 ] || { echo "objectstore: the S3 gateway did not come up" >&2; exit 1; }
echo "objectstore: S3 API on :8333; buckets: $(buckets | tr '\n' ' ')"
wait "$server"

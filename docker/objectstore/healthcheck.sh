#!/usr/bin/env bash
# Healthy when the S3 gateway answers /healthz and every bucket of S3_BUCKETS exists.
# --gateway-only: just the first part (the entrypoint waits on it before creating buckets).
set -euo pipefail
exec 3<>/dev/tcp/127.0.0.1/8333
printf 'GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
read -r _ status _ <&3
[ "$status" = "200" ]
[ "${1:-}" = "--gateway-only" ] && exit 0
existing="$(echo "s3.bucket.list" | weed shell -master=127.0.0.1:9333 2>/dev/null | awk '{print $1}')"
for bucket in ${S3_BUCKETS:-lakehouse-raw lakehouse}; do
  grep -qx -- "$bucket" <<<"$existing"
done

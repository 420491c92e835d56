#!/usr/bin/env bash
# Build the three images of docker/compose.yaml with BuildKit, from the one base image.
#
#   docker/build-images.sh              # base image if missing (docker/base-image.sh), then all images
#   docker/build-images.sh airflow      # only some: postgres, objectstore, airflow
#
# BuildKit gives the Dockerfiles cache mounts (apt, pip and uv downloads survive a changed lock
# file) and build secrets. Compose builds with BuildKit only through the buildx plugin; where
# that is missing, a docker CLI older than 23 (Debian's docker.io) still has BuildKit built in
# (DOCKER_BUILDKIT=1). DOCKER_BUILD="..." overrides the choice.
#
# CA bundle: on networks that inspect TLS, downloads inside the build need the host's CA
# bundle. BUILD_CA_BUNDLE (default: the system bundle, when it exists) is handed to the build
# as the `ca_bundle` secret: used while downloading, never written into an image.
# DOCKER_BUILD_EXTRA adds build flags (lakehouse bench-compose uses --no-cache).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGES=(postgres objectstore airflow)
declare -A CONTEXT=([postgres]=docker/postgres [objectstore]=docker/objectstore [airflow]=.)
declare -A DOCKERFILE=(
  [postgres]=docker/postgres/Dockerfile
  [objectstore]=docker/objectstore/Dockerfile
  [airflow]=docker/airflow/Dockerfile
)
TAG="${LAKEHOUSE_IMAGE_TAG:-local}"

case "${1:-}" in -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${IMAGES[@]}")
for name in "${wanted[@]}"; do
  [ -n "${CONTEXT[$name]:-}" ] || { echo "build-images: unknown image '$name' (${IMAGES[*]})" >&2; exit 2; }
done

builder() {
  if [ -n "${DOCKER_BUILD:-}" ]; then echo "$DOCKER_BUILD"; return; fi
  if docker buildx version >/dev/null 2>&1; then echo "docker buildx build --load"; return; fi
  local client version
  for client in docker /usr/bin/docker; do
    version="$("$client" version --format '{{.Client.Version}}' 2>/dev/null || true)"
    if [ -n "$version" ] && [ "${version%%.*}" -lt 23 ] 2>/dev/null; then
      echo "env DOCKER_BUILDKIT=1 $client build"; return
    fi
  done
  echo "build-images: no BuildKit builder: install the docker buildx plugin (or Debian's docker.io)" >&2
  return 1
}
read -r -a BUILD <<<"$(builder)"

ca="${BUILD_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
secret=()
[ -n "$ca" ] && [ -s "$ca" ] && secret=(--secret "id=ca_bundle,src=$ca")

docker/base-image.sh
total_started=$SECONDS
for name in "${wanted[@]}"; do
  started=$SECONDS
  echo "build-images: lakehouse/$name:$TAG (${BUILD[*]})"
  log="${TMPDIR:-/tmp}/lakehouse-build-$name.log"
  # shellcheck disable=SC2086  # DOCKER_BUILD_EXTRA: more build flags, e.g. --no-cache
  "${BUILD[@]}" --progress plain "${secret[@]}" ${DOCKER_BUILD_EXTRA:-} \
    -f "${DOCKERFILE[$name]}" -t "lakehouse/$name:$TAG" "${CONTEXT[$name]}" >"$log" 2>&1 || {
      tail -n 40 "$log" >&2
      echo "build-images: lakehouse/$name:$TAG failed (whole log: $log)" >&2
      exit 1
    }
  echo "build-images: lakehouse/$name:$TAG built in $((SECONDS - started)) s"
done
echo "build-images: ${#wanted[@]} image(s) in $((SECONDS - total_started)) s"

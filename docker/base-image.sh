#!/usr/bin/env bash
# Make sure the base image every Dockerfile here starts from, debian:bookworm-slim, exists.
#
# Where a registry is reachable `docker pull` gets the official image by its pinned digest
# (DIGEST, lakehouse/pins.py) and tags it. On a machine with no container registry (CI here), the
# same tag is made locally: a minimal Debian bookworm root file system from Debian's own mirror
# (debootstrap --variant=minbase, which checks the mirror's Release file against Debian's archive
# keyring: a tampered mirror fails the build), imported as an image. The Dockerfiles then build
# the same way in both places.
#
# It says which path it takes and why before it takes it: the image is already here; a registry
# answered a short probe (PROBE_SECONDS, default 5), so it pulls; or none did, so it builds with
# debootstrap without trying a pull that would fail. The probe asks the engine's registry
# mirrors and REGISTRY_URL (default https://registry-1.docker.io/v2/); any HTTP answer counts.
# With a proxy in the environment (HTTPS_PROXY) curl probes through it, as the engine would.
#
#   docker/base-image.sh            # pull if a registry answers, else make it locally
#   docker/base-image.sh --local    # make it locally even if a registry is reachable
#   MIRROR=http://deb.debian.org/debian docker/base-image.sh
set -euo pipefail

IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"
# The official image's digest (lakehouse/pins.py DEBIAN_BASE_DIGEST; tests/unit/test_pins.py).
DIGEST="sha256:3783cc01769c7b2b1b83a5c5ad96c815348e28ed7da68e2e3687004faa906251"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
REGISTRY_URL="${REGISTRY_URL:-https://registry-1.docker.io/v2/}"
PROBE_SECONDS="${PROBE_SECONDS:-5}"

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --local) force_local=1 ;;
  "") force_local=0 ;;
  *) echo "base-image: unknown argument $1" >&2; usage >&2; exit 2 ;;
esac

# The first registry (an engine mirror, then REGISTRY_URL) that gives any HTTP answer within
# PROBE_SECONDS; nothing when none does.
reachable_registry() {
  local url code
  for url in $(timeout 10 docker info --format '{{range .RegistryConfig.Mirrors}}{{.}} {{end}}' 2>/dev/null || true) \
      "$REGISTRY_URL"; do
    code="$(curl --silent --output /dev/null --max-time "$PROBE_SECONDS" --write-out '%{http_code}' "$url" || true)"
    if [ -n "$code" ] && [ "$code" != 000 ]; then echo "$url"; return 0; fi
  done
  return 1
}

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base-image: $IMAGE is present; nothing to do"
  exit 0
fi
try_pull=0
if [ "$force_local" = 1 ]; then
  why="--local given"
elif ! command -v curl >/dev/null; then
  echo "base-image: no curl to probe a registry with: trying to pull ${IMAGE%%:*}@$DIGEST (at most 60 s)"
  why="the pull failed" try_pull=1
elif registry="$(reachable_registry)"; then
  echo "base-image: registry $registry answers: pulling ${IMAGE%%:*}@$DIGEST (at most 60 s)"
  why="the pull failed although $registry answered" try_pull=1
else
  why="no registry reachable ($REGISTRY_URL gave no answer within $PROBE_SECONDS s)"
fi
if [ "$try_pull" = 1 ] && timeout 60 docker pull -q "${IMAGE%%:*}@$DIGEST" >/dev/null 2>&1; then
  docker tag "${IMAGE%%:*}@$DIGEST" "$IMAGE"
  echo "base-image: pulled $IMAGE@$DIGEST"
  exit 0
fi
echo "base-image: $why: building $IMAGE with debootstrap --variant=minbase $SUITE from $MIRROR"

command -v debootstrap >/dev/null || {
  echo "base-image: debootstrap is not installed (apt-get install debootstrap)" >&2
  exit 1
}
[ "$(id -u)" -eq 0 ] || { echo "base-image: debootstrap needs root" >&2; exit 1; }
[ -s "$KEYRING" ] || {
  echo "base-image: $KEYRING is missing (apt-get install debian-archive-keyring): cannot check the mirror" >&2
  exit 1
}

root="$(mktemp -d /tmp/bookworm-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
started=$SECONDS
debootstrap --variant=minbase --force-check-gpg --keyring="$KEYRING" "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1
}
rm -f "$root.log"
# What the official slim image also does: no apt caches or package lists in the image, and
# the same sources (deb822) so `apt-get update` works as it does there.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
tar -C "$root" -c . | docker import \
  --change 'CMD ["bash"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  - "$IMAGE" >/dev/null
echo "base-image: made $IMAGE locally in $((SECONDS - started)) s"

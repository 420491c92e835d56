#!/usr/bin/env bash
# The quickstart lane: what a new user sees. A fresh container with only Python 3.11, Java 17,
# make and git (no SQLite JDBC package, no virtualenvs, no caches), a fresh clone of this
# repository, then `make demo` exactly as the README says. Passes when the demo exits 0 and its
# summary shows every layer matching the simulator's ground truth.
#
# Assumes: dockerd is running and the base image exists (issue 14 builds it with debootstrap and
# `docker import` as debian:bookworm-slim). The container reaches PyPI and Debian's mirrors
# through the engine's default bridge network, as a user's machine would.
#
#   bash .ci/quickstart.sh                       # as root in the container (setup installs the
#                                                # Debian package itself)
#   QUICKSTART_USER=dev bash .ci/quickstart.sh   # as a user without root (setup unpacks the
#                                                # package into .venv instead)
#
# Settings (environment): QUICKSTART_IMAGE (default debian:bookworm-slim), QUICKSTART_USER
# (default root), QUICKSTART_REF (default HEAD: the commit to clone), QUICKSTART_LOG (default
# .ci/quickstart.log on the host), QUICKSTART_CA_DIR (default /usr/local/share/ca-certificates:
# extra CA certificates the host trusts, e.g. a TLS-inspecting egress proxy's, handed to the
# container so it reaches PyPI the way the host does; not something the project needs).
set -euo pipefail
cd "$(dirname "$0")/.."

image="${QUICKSTART_IMAGE:-debian:bookworm-slim}"
user="${QUICKSTART_USER:-root}"
ref="$(git rev-parse "${QUICKSTART_REF:-HEAD}")"
log="${QUICKSTART_LOG:-$PWD/.ci/quickstart.log}"

docker info >/dev/null 2>&1 || { echo "quickstart: dockerd is not running" >&2; exit 2; }
docker image inspect "$image" >/dev/null 2>&1 || {
  echo "quickstart: base image $image is missing (issue 14's script builds it)" >&2; exit 2; }

# A bare clone of the commit to test, so the container clones from it as a user clones from a remote.
bundle="$(mktemp -d)"
trap 'rm -rf "$bundle"' EXIT
git clone -q --bare --no-local . "$bundle/repo.git"
git -C "$bundle/repo.git" update-ref refs/heads/quickstart "$ref"

ca_dir="${QUICKSTART_CA_DIR:-/usr/local/share/ca-certificates}"
ca_mount=()
if compgen -G "$ca_dir/*.crt" >/dev/null; then ca_mount=(-v "$ca_dir:/usr/local/share/ca-certificates:ro"); fi

echo "quickstart: $ref in a fresh $image container as $user (log: $log)"
started=$(date +%s)
set +e
docker run --rm -i \
  -v "$bundle/repo.git:/src/repo.git:ro" "${ca_mount[@]}" \
  -e QUICKSTART_USER="$user" \
  "$image" bash -s > "$log" 2>&1 <<'EOF'
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Only what the README asks a user to have: Python 3.11+, Java 17, make (and git to clone).
apt-get install -y -qq --no-install-recommends python3 python3-venv openjdk-17-jre-headless make git ca-certificates >/dev/null
# The host's extra CAs (if any were mounted): pip, uv and urllib then trust what the host trusts.
update-ca-certificates >/dev/null 2>&1 || true
export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
if [ "$QUICKSTART_USER" != root ]; then useradd -m "$QUICKSTART_USER"; fi
git config --system --add safe.directory /src/repo.git  # the mounted clone source is root's
home=$(getent passwd "$QUICKSTART_USER" | cut -d: -f6)
su "$QUICKSTART_USER" -s /bin/bash -w SSL_CERT_FILE,PIP_CERT -c "
  set -euo pipefail
  cd '$home'
  git clone -q --branch quickstart /src/repo.git lakehouse
  cd lakehouse
  time make demo
"
EOF
status=$?
set -e
elapsed=$(( $(date +%s) - started ))

tail -40 "$log"
matches=$(grep -cE '^(bronze\.orders_raw|bronze\.orders_quarantine|silver\.order_lines) +[0-9]+ +[0-9]+ +yes' "$log" || true)
if [ "$status" -ne 0 ] || [ "$matches" -ne 3 ] || ! grep -q '^demo finished in' "$log"; then
  echo "quickstart: FAILED (exit $status, $matches/3 layers matching the ground truth) after ${elapsed}s; log: $log" >&2
  exit 1
fi
echo "quickstart: passed in ${elapsed}s (container, apt, setup and demo); 3/3 layers match the ground truth"

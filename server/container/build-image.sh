#!/usr/bin/env bash
# Builds the container image with buildah from scratch (base images cannot be downloaded here,
# and none is needed): the release build's binary, hash file and site, the shared libraries the
# binary loads, CA certificates and a passwd entry for the non-root user (uid 10001).
#   cargo leptos build --release --precompress && bash server/container/build-image.sh [tag [binary]]
# The binary defaults to the release build's; its hash.txt must be beside it. The end-to-end run
# passes the tests' own (see build_release_site in end2end/stack/lib.sh).
# Needs buildah (Debian: apt-get install buildah). Storage: vfs, which works without overlayfs;
# GATEHOUSE_IMAGE_STORE names a storage of its own (see storage.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${1:-localhost/gatehouse:latest}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
bin=${2:-$TARGET/release/gatehouse}
source "$ROOT/server/container/storage.sh"
for f in "$bin" "$(dirname "$bin")/hash.txt" "$TARGET/site/pkg"; do
  [ -e "$f" ] || { echo "missing $f: run cargo leptos build --release first" >&2; exit 1; }
done
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
mkdir -p "$root/app" "$root/etc/ssl/certs" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$bin" "$(dirname "$bin")/hash.txt" "$root/app/"
cp -r "$TARGET/site" "$root/app/site"
# The dynamic loader and every library the binary loads (glibc, libgcc): nothing else is there.
ldd "$bin" | awk '/=> \// {print $3} /^\s*\/lib/ {print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'gatehouse:x:10001:10001:Gatehouse:/app:/nonexistent\n' >"$root/etc/passwd"
printf 'gatehouse:x:10001:\n' >"$root/etc/group"
cp "$ROOT/server/container/Containerfile" "$ctx/"
# Docker format: the OCI format has no HEALTHCHECK.
buildah "${STORAGE_FLAGS[@]}" bud --quiet --format docker -t "$TAG" -f "$ctx/Containerfile" "$ctx" >/dev/null
size=$(buildah "${STORAGE_FLAGS[@]}" images --format '{{.Size}}' "$TAG")
echo "built $TAG ($size)"

#!/usr/bin/env bash
# Builds the container image with buildah from scratch (base images cannot be downloaded here,
# and none is needed): the release build's binary, hash file and site, the shared libraries the
# binary loads, CA certificates and a passwd entry for the non-root user (uid 10001).
#   cargo leptos build --release --precompress && bash server/container/build-image.sh [tag]
# Needs buildah (Debian: apt-get install buildah). Storage: vfs, which works without overlayfs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TAG=${1:-localhost/gatehouse:latest}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
bin="$TARGET/release/gatehouse"
for f in "$bin" "$TARGET/release/hash.txt" "$TARGET/site/pkg"; do
  [ -e "$f" ] || { echo "missing $f: run cargo leptos build --release first" >&2; exit 1; }
done
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
mkdir -p "$root/app" "$root/etc/ssl/certs" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$bin" "$TARGET/release/hash.txt" "$root/app/"
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
buildah --storage-driver vfs bud --quiet --format docker -t "$TAG" -f "$ctx/Containerfile" "$ctx" >/dev/null
size=$(buildah --storage-driver vfs images --format '{{.Size}}' "$TAG")
echo "built $TAG ($size)"

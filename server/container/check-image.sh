#!/usr/bin/env bash
# Runs the image the way production does (non-root, read-only root file system, /tmp the only
# writable place) against a running stack whose settings are in the environment (GATEHOUSE_*,
# as end2end/e2e.sh exports them), and checks it: its HEALTHCHECK passes, /readyz answers 200,
# a page names the hashed site files and they are served for good, SIGTERM stops it with 0.
#   bash server/container/check-image.sh [tag]
# It listens where the image says (0.0.0.0:8080, which its HEALTHCHECK asks), on the host's
# network so it reaches the stack's database, provider and AWS endpoint on 127.0.0.1.
# Needs podman with runc; the flags below are what works in this sandbox (cgroups v1/v2 hybrid,
# no overlayfs, no CAP_SYS_RESOURCE, no systemd to time health checks: they run on demand).
set -euo pipefail
TAG=${1:-localhost/gatehouse:latest}
PORT=8080
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$ROOT/.data
source "$ROOT/server/container/storage.sh"
podman=(podman "${STORAGE_FLAGS[@]}" "${PODMAN_STATE_FLAGS[@]}" --runtime runc --cgroup-manager cgroupfs)
name=gatehouse-check-$$
"${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true
# Secrets reach the container as files it may read (uid 10001), as a secret mount would give them.
secrets=$(mktemp -d)
if [ -n "${GATEHOUSE_AUDIT_KEY_FILE:-}" ]; then
  cp "$GATEHOUSE_AUDIT_KEY_FILE" "$secrets/audit.key"
  chown -R 10001:10001 "$secrets" && chmod 0500 "$secrets" && chmod 0400 "$secrets/audit.key"
fi
# The stack's settings, except where this copy listens and where its site is; the demo's
# files (directory, audit key) are mounted read-only at the same paths.
"${podman[@]}" run -d --name "$name" --network host --read-only \
  --ulimit nofile="$(ulimit -Sn)":"$(ulimit -Hn)" --ulimit nproc=4096:4096 \
  --env 'GATEHOUSE_*' --env 'DATABASE_URL' --env 'AWS_*' \
  --env GATEHOUSE_LISTEN="0.0.0.0:$PORT" --env GATEHOUSE_BASE_URL="http://127.0.0.1:$PORT" \
  --env LEPTOS_SITE_ROOT=/app/site --env GATEHOUSE_LOG_FORMAT=json \
  --env GATEHOUSE_AUDIT_ANCHOR_FILE=/tmp/audit-checkpoints.jsonl \
  ${GATEHOUSE_AUDIT_KEY_FILE:+--env GATEHOUSE_AUDIT_KEY_FILE=/run/secrets/audit.key} \
  -v "$secrets:/run/secrets:ro" -v "$DATA:$DATA:ro" \
  --health-interval disable "$TAG" >"$secrets.run.log" 2>&1 || { cat "$secrets.run.log" >&2; exit 1; }
cleanup() { "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$secrets" "$secrets.run.log"; }
trap cleanup EXIT
fail() { echo "image check failed: $*" >&2; "${podman[@]}" logs "$name" 2>&1 | tail -20 >&2; exit 1; }

for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || fail "/readyz did not answer 200"
echo "image: /readyz answers 200"
"${podman[@]}" healthcheck run "$name" >/dev/null 2>&1 && echo "image: HEALTHCHECK passes" \
  || fail "its HEALTHCHECK does not pass"
user=$("${podman[@]}" top "$name" user | awk 'NR==2 {print $1}')
[ "$user" != root ] && [ -n "$user" ] || fail "it runs as '$user'"
echo "image: runs as user $user, read-only root"
# A page anyone may see (signed out, the others redirect): the not-found page.
wasm=$(curl -sS "http://127.0.0.1:$PORT/auth/no-such-page" | grep -o 'gatehouse\.[A-Za-z0-9_-]\{22\}\.wasm' | head -n1)
[ -n "$wasm" ] || fail "the home page names no hashed wasm"
cache=$(curl -fsS -o /dev/null -D - -H 'Accept-Encoding: br' "http://127.0.0.1:$PORT/pkg/$wasm" | tr -d '\r')
grep -qi '^cache-control: public, max-age=31536000, immutable' <<<"$cache" || fail "/pkg/$wasm: $cache"
grep -qi '^content-encoding: br' <<<"$cache" || fail "/pkg/$wasm is not served precompressed"
echo "image: /pkg/$wasm served brotli-compressed, immutable"
"${podman[@]}" stop -t 20 "$name" >/dev/null 2>&1
code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$name")
[ "$code" = 0 ] || fail "it exited $code after SIGTERM"
echo "image: SIGTERM stops it with exit status 0"

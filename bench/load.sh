#!/usr/bin/env bash
# Load and faults, loopback only: 50 signed-in sessions on pages and server functions for 60 s
# next to /healthz in the same run (requests/s, p50/p99, errors, the server's peak RSS); then the
# same load while PostgreSQL restarts, and SIGTERM with a push under way (it resumes on restart).
# Usage: bash bench/load.sh [seconds-per-phase]   (FAULT_CMD overrides how PostgreSQL restarts)
set -euo pipefail
source "$(dirname "$0")/../end2end/stack/lib.sh"
trap stop_stack EXIT
cd "$ROOT"
SECS=${1:-60}
setup_tools
ensure_postgres
# The same build the end-to-end tests use (the release site on the tests' dev-profile server):
# the figures compare pages with /healthz in one run, so the build's speed cancels out (a release
# server takes a quarter of an hour to build here).
build_site release-site
PORT=3200 OIDC_PORT=9420 MOTO_PORT=5075
recreate_database gatehouse_load
use_two_roles gatehouse_load
export GATEHOUSE_SYNC_INTERVAL_MINUTES=0 GATEHOUSE_DRIFT_INTERVAL_MINUTES=0
demo_settings "$PORT" "$OIDC_PORT" "$MOTO_PORT"
export LEPTOS_SITE_ROOT="$ROOT/target/site" GATEHOUSE_SESSION_IDLE_MINUTES=60
start_moto "$MOTO_PORT"
"$GATEHOUSE_BIN" seed-demo >/dev/null
"$GATEHOUSE_BIN" sync all >/dev/null
start_oidc "$OIDC_PORT"
"$GATEHOUSE_BIN" serve >"$DATA/load-server.log" 2>&1 &
SERVER=$!
STACK_PIDS+=($SERVER)
wait_for_url "http://127.0.0.1:$PORT/readyz" "Gatehouse"
FAULT_CMD=${FAULT_CMD:-"service postgresql restart >/dev/null 2>&1 || pg_ctlcluster 15 main restart"}
GATEHOUSE_URL="http://127.0.0.1:$PORT" SERVER_PID=$SERVER SECONDS_EACH=$SECS FAULT_CMD="$FAULT_CMD" \
  cargo bench -q -p server --bench load --profile dev
# SIGTERM: the server stops taking requests, finishes what it serves, and exits 0.
kill -TERM "$SERVER"
if wait "$SERVER"; then echo "SIGTERM: drained and exited cleanly"; else echo "SIGTERM: exit status $?"; fi

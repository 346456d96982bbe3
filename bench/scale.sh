#!/usr/bin/env bash
# Every page at a mid-sized company's size (see `gatehouse seed-scale`): a release server on a
# database of 5,000 groups, 50 APIs × 20 methods, 500 roles, 10,000 mappings, 100 change sets and
# 1,000,000 audit events (and the 2× variant), one page after another: one request, then 16
# connections for 10 s beside /healthz, every page in turn, three rounds; prints req/s, p50, p99,
# HTML size and RSS per page (and its anonymous part: heap and stacks, apart from the binary's
# pages), then the goals judged on each page's median over the rounds (one round on a 2-core
# machine moves a page's req/s by ±20 %), and for the 2× dataset how many times slower each page
# is than on the 1× one (goal: at most 1.5×).
# Usage: bash bench/scale.sh [seconds-per-page] [factors...]   (default: 10 1 2)
# PAGES='Home;/roles' asks only those pages (labels as printed, `;`-separated).
# ROUNDS=1 asks every page once (default 3, on the same process: RSS per round, does anything
# grow with use?).
# Then the History filters' query plans at that size: bash bench/plans.sh
set -euo pipefail
source "$(dirname "$0")/../end2end/stack/lib.sh"
trap stop_stack EXIT
cd "$ROOT"
SECS=${1:-10}
export ROUNDS=${ROUNDS:-3}
shift || true
FACTORS=("${@:-1 2}")
setup_tools
ensure_postgres
# Everything as it ships (`cargo leptos build --release --precompress`: the optimised server and
# the release site, see build_site in end2end/stack/lib.sh). A quarter of an hour here, once.
build_site release
BIN="$GATEHOUSE_BIN"
PORT=3200 OIDC_PORT=9420 MOTO_PORT=5075
export GATEHOUSE_SYNC_INTERVAL_MINUTES=0 GATEHOUSE_DRIFT_INTERVAL_MINUTES=0
demo_settings "$PORT" "$OIDC_PORT" "$MOTO_PORT"
export LEPTOS_SITE_ROOT="$ROOT/target/site" GATEHOUSE_SESSION_IDLE_MINUTES=120
export RUST_LOG=warn
start_moto "$MOTO_PORT"
start_oidc "$OIDC_PORT"
for factor in ${FACTORS[*]}; do
  db="gatehouse_scale_$factor"
  recreate_database "$db"
  GATEHOUSE_BIN="$BIN" use_two_roles "$db"
  echo "== factor $factor: seeding $db"
  DATABASE_URL="${PG_ADMIN_URL%/*}/$db" "$BIN" seed-scale --factor "$factor" | grep -v "^  "
  "$BIN" serve >"$DATA/scale-server.log" 2>&1 &
  SERVER=$!
  STACK_PIDS+=($SERVER)
  wait_for_url "http://127.0.0.1:$PORT/readyz" "Gatehouse"
  echo "== factor $factor"
  compare=()
  [ "$factor" != 1 ] && [ -f "$DATA/scale-medians-1.tsv" ] && compare=(COMPARE_WITH="$DATA/scale-medians-1.tsv")
  env GATEHOUSE_URL="http://127.0.0.1:$PORT" SERVER_PID=$SERVER SECONDS_EACH=$SECS \
    SAVE_TO="$DATA/scale-medians-$factor.tsv" "${compare[@]}" \
    cargo bench -q -p server --bench scale
  kill -TERM "$SERVER"; wait "$SERVER" || true
done

#!/usr/bin/env bash
# The end-to-end part of test.sh, runnable alone: builds the site, starts the stack (fresh
# database, moto seeded with the demo's APIs and roles, the demo OpenID Connect provider,
# Gatehouse with the demo directory file) and runs Playwright in Chromium with JavaScript on and off.
set -euo pipefail
source "$(dirname "$0")/stack/lib.sh"
trap stop_stack EXIT
cd "$ROOT"
LOGS="$DATA/test-logs"
mkdir -p "$LOGS"
setup_tools
ensure_postgres

# The site as it ships (wasm-opt, hashed and precompressed files) on the tests' server build;
# GATEHOUSE_E2E_PROFILE=release builds the server in release too, =debug builds fastest while
# working on a test (build_site in stack/lib.sh says more).
profile=${GATEHOUSE_E2E_PROFILE:-release-site}
say "end-to-end: build ($profile), stack, Playwright in Chromium (JavaScript on and off)"
build_site "$profile"
if [ "$profile" != debug ]; then
  bash end2end/stack/check-asset-size.sh
fi
PORT=3100 OIDC_PORT=9410 MOTO_PORT=5065
recreate_database gatehouse_e2e
use_two_roles gatehouse_e2e
# Tests start syncs themselves; the schedule stays off.
export GATEHOUSE_SYNC_INTERVAL_MINUTES=0 GATEHOUSE_DRIFT_INTERVAL_MINUTES=0
demo_settings "$PORT" "$OIDC_PORT" "$MOTO_PORT"
# A copy of the demo's directory that the guard test rewrites; every removal is held back, so one
# group leaving shows the guard.
export GATEHOUSE_E2E_DIRECTORY_FILE="$DATA/e2e-directory.json"
cp end2end/stack/demo-directory.json "$GATEHOUSE_E2E_DIRECTORY_FILE"
export GATEHOUSE_DIRECTORY_FILE="$GATEHOUSE_E2E_DIRECTORY_FILE" GATEHOUSE_DIRECTORY_MAX_REMOVAL_PERCENT=0
# Time-bound access: the tests move Gatehouse's clock with this file; ends are looked for each second.
export GATEHOUSE_CLOCK_SKEW_FILE="$DATA/e2e-clock-skew" GATEHOUSE_EXPIRY_CHECK_SECONDS=1
rm -f "$GATEHOUSE_CLOCK_SKEW_FILE"
start_moto "$MOTO_PORT"
"$GATEHOUSE_BIN" seed-demo >/dev/null
start_oidc "$OIDC_PORT"
export GATEHOUSE_BIN
"$GATEHOUSE_BIN" serve >"$LOGS/gatehouse-e2e.log" 2>&1 &
STACK_PIDS+=($!)
wait_for_url "http://127.0.0.1:$PORT/readyz" "Gatehouse"
export GATEHOUSE_URL="http://127.0.0.1:$PORT" OIDC_ORIGIN="http://127.0.0.1:$OIDC_PORT"
export SCREENSHOTS="$ROOT/end2end/screenshots"
rm -rf "$SCREENSHOTS"
if [ $# -gt 0 ]; then
  # Only what was asked for (`bash end2end/e2e.sh tests/tokens.spec.ts`), while working on it.
  (cd end2end && npx playwright test "$@") 2>&1 | tee "$LOGS/playwright.log"
  exit "${PIPESTATUS[0]}"
fi
(cd end2end && npx playwright test --grep-invert '@directory-file|@clock|@serial') 2>&1 | tee "$LOGS/playwright.log"
# The tests that rewrite the directory file or move the clock run alone, one at a time, after the rest.
# Its own output folder: a run empties its folder first, and the first run's failure context
# (the page as it was, error-context.md) must outlive a retry that passed.
(cd end2end && npx playwright test --grep '@directory-file|@clock|@serial' --workers=1 --output test-results-serial) 2>&1 | tee -a "$LOGS/playwright.log"
echo "screenshots of every page: $SCREENSHOTS"
if [ "$profile" != debug ]; then
  say "container image: built from scratch with buildah, run with podman against the stack"
  # A storage of its own, made anew (storage.sh says why).
  export GATEHOUSE_IMAGE_STORE="$DATA/containers"
  rm -rf "$GATEHOUSE_IMAGE_STORE"
  bash server/container/build-image.sh localhost/gatehouse:test "$GATEHOUSE_BIN"
  bash server/container/check-image.sh localhost/gatehouse:test 2>&1 | tee "$LOGS/image.log"
  rm -rf "$GATEHOUSE_IMAGE_STORE"
fi

#!/usr/bin/env bash
# The README's run command: brings up the whole local demo on a fresh machine —
# PostgreSQL, the demo OpenID Connect provider, moto_server seeded with sample APIs, and
# Gatehouse on http://127.0.0.1:3000. Ctrl-C stops everything it started.
set -euo pipefail
source "$(dirname "$0")/stack/lib.sh"
trap stop_stack EXIT

PORT=${GATEHOUSE_PORT:-3000} OIDC_PORT=${OIDC_PORT:-9400} MOTO_PORT=${MOTO_PORT:-5055}

setup_tools
ensure_postgres
# After the test command, its release build is there and up to date: the demo uses it (the same
# command, so cargo finds nothing to do) instead of compiling a debug build for minutes. On a
# fresh machine the debug build is quicker. GATEHOUSE_DEMO_PROFILE=debug|release chooses.
profile=${GATEHOUSE_DEMO_PROFILE:-}
if [ -z "$profile" ]; then
  if [ -x "${CARGO_TARGET_DIR:-$ROOT/target}/release/gatehouse" ]; then profile=release; else profile=debug; fi
fi
say "building Gatehouse (cargo leptos build, $profile)"
if [ "$profile" = release ]; then
  (cd "$ROOT" && cargo leptos build --release --precompress)
else
  (cd "$ROOT" && cargo leptos build)
fi
GATEHOUSE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$profile/gatehouse"

if [ -z "${DATABASE_URL:-}" ]; then
  # moto keeps nothing between runs, so neither does the demo's database.
  recreate_database gatehouse_demo
  use_two_roles gatehouse_demo
else
  "$GATEHOUSE_BIN" migrate
fi

demo_settings "$PORT" "$OIDC_PORT" "$MOTO_PORT"
say "starting moto_server on :$MOTO_PORT, seeding the sample APIs and roles, syncing every catalog"
start_moto "$MOTO_PORT"
"$GATEHOUSE_BIN" seed-demo
"$GATEHOUSE_BIN" sync all
say "starting the demo OpenID Connect provider on :$OIDC_PORT"
start_oidc "$OIDC_PORT"

say "Gatehouse on http://127.0.0.1:$PORT — sign in as any demo user (see README). Ctrl-C to stop."
"$GATEHOUSE_BIN" serve

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
# The same build as the test command's end-to-end run (build_site in stack/lib.sh): after the
# tests cargo finds the server compiled. GATEHOUSE_DEMO_PROFILE=release|debug chooses another.
profile=${GATEHOUSE_DEMO_PROFILE:-release-site}
say "building Gatehouse ($profile)"
cd "$ROOT"
build_site "$profile"

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

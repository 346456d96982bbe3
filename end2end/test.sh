#!/usr/bin/env bash
# The README's test command, and exactly what CI runs: formatting, lints, the wasm check, unit
# and integration tests (real PostgreSQL, the real OpenID Connect provider, moto_server), then
# the end-to-end suite in Chromium with JavaScript on and off.
set -euo pipefail
source "$(dirname "$0")/stack/lib.sh"
trap stop_stack EXIT
cd "$ROOT"
LOGS="$DATA/test-logs"
rm -rf "$LOGS" && mkdir -p "$LOGS"

setup_tools
ensure_postgres
export GATEHOUSE_TEST_DATABASE_URL="$PG_ADMIN_URL"
export GATEHOUSE_TEST_MOTO_SERVER="$DATA/venv/bin/moto_server"

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy (server, all targets) -D warnings; SQL checked against the migrations"
# The server's lint build also expands sqlx's query macros online, against a database made by
# the migrations; what they learn must equal the committed .sqlx/ (the offline data).
bash end2end/stack/sqlx-prepare.sh --check -- cargo clippy -p server -p gatehouse-authorizer --all-targets -- -D warnings
# The profiling build (memory.rs: live heap bytes beside RSS) is not shipped but must not rot.
say "cargo clippy (server, --features heap-stats) -D warnings"
SQLX_OFFLINE=true cargo clippy -p server --bin gatehouse --features heap-stats -- -D warnings
# Clippy checks the crate as `cargo check` does (types, borrows) before it lints: this is the
# wasm check too.
say "wasm check and lints: cargo clippy (app, hydrate, wasm32) -D warnings"
cargo clippy -p app --features hydrate --target wasm32-unknown-unknown -- -D warnings
bash end2end/stack/check-dependencies.sh
bash end2end/stack/check-feature-alignment.sh
say "cargo deny check bans licenses sources (deny.toml; advisories need GitHub, unreachable here)"
cargo deny --log-level error check bans licenses sources
say "migrations are append-only"
bash end2end/stack/check-migrations.sh

say "unit and integration tests"
# Each integration test makes its own database; drop those earlier runs left behind.
psql "$PG_ADMIN_URL" -qtAc "SELECT datname FROM pg_database WHERE datname LIKE 'gatehouse_test_%'" \
  | while read -r db; do psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done
# With the flags (.cargo/config.toml) and features (check-feature-alignment above) of the binary
# that ships, so the server the end-to-end run and the demo use after them is compiled already.
cargo test --workspace 2>&1 | tee "$LOGS/cargo-test.log"
# The stall test measures /healthz latency under load: alone, not beside the suite's other tests
# on the machine's two cores (ignored in the run above).
cargo test -p server --test integration -- --ignored --nocapture 2>&1 | tee -a "$LOGS/cargo-test.log"
bash end2end/e2e.sh

# One closing line over both runners.

rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$LOGS/cargo-test.log" | awk '{s+=$4} END {print s+0}')
# Playwright runs twice (the directory-file tests alone): add up both summaries.
e2e_passed=$(grep -Eo '^ *[0-9]+ passed' "$LOGS/playwright.log" | awk '{s+=$1} END {print s+0}')
echo "all tests: $((rust_passed + ${e2e_passed:-0})) passed, 0 failed"

#!/usr/bin/env bash
# Checks every compile-time SQL statement (sqlx's query macros) against a fresh database made by
# the migrations, and writes what the macros learn into `.sqlx/` (committed: builds read it and
# need no database). With --check, fails instead when `.sqlx/` is not exactly current, so a query
# that no longer matches the schema, or offline data nobody renewed, fails CI.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
# Usage: sqlx-prepare.sh [--check] [-- BUILD COMMAND]   (default: cargo check -p app --features ssr)
check=false
[ "${1:-}" = "--check" ] && { check=true; shift; }
[ "${1:-}" = "--" ] && shift
build=("$@")
[ ${#build[@]} -gt 0 ] || build=(cargo check -p app --features ssr --quiet)

ensure_postgres
# One database per checkout: two checkouts preparing at once on one server must not drop each
# other's database.
db="gatehouse_sqlx_prepare_$(printf %s "$ROOT" | sha256sum | cut -c1-8)"
recreate_database "$db"
url="${PG_ADMIN_URL%/*}/$db"
for m in migrations/*.sql; do
  psql "$url" -v ON_ERROR_STOP=1 -q -f "$m" >/dev/null
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Touching the crate makes cargo expand its macros again, online this time.
touch app/src/lib.rs
SQLX_OFFLINE=false DATABASE_URL="$url" SQLX_OFFLINE_DIR="$out" "${build[@]}"
touch app/src/lib.rs
psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null

if $check; then
  if ! diff -r -q .sqlx "$out" >/dev/null 2>&1; then
    echo "The committed .sqlx/ does not match the queries and migrations:" >&2
    diff -r -q .sqlx "$out" >&2 || true
    echo "Run end2end/stack/sqlx-prepare.sh and commit .sqlx/." >&2
    exit 1
  fi
  echo "sqlx: $(ls "$out" | wc -l) compile-checked queries match the migrations and .sqlx/"
else
  rm -rf .sqlx && mkdir .sqlx && cp "$out"/*.json .sqlx/ 2>/dev/null || true
  echo "sqlx: wrote $(ls .sqlx | wc -l) queries to .sqlx/"
fi

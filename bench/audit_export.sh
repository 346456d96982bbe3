#!/usr/bin/env bash
# Benchmark: 1,000,000 audit events exported as CSV by `gatehouse audit export` (the same streamed
# code path as the History page's download), next to `psql \copy … to stdout csv` over the same
# rows in the same run; and the exporting process's peak memory.
# Usage: bash bench/audit_export.sh [rows]   (needs PostgreSQL at $PG_ADMIN_URL or 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-1000000}
ADMIN=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=gatehouse_bench_export
URL="${ADMIN%/*}/$DB"
OUT=${TMPDIR:-/tmp}/gatehouse-bench-export
mkdir -p "$OUT"

cargo build --release -p server --bin gatehouse -q
BIN=target/release/gatehouse

psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB" -qc "CREATE DATABASE $DB"
DATABASE_URL="$URL" "$BIN" migrate >/dev/null
start=$(date +%s.%N)
psql "$URL" -qc "INSERT INTO audit_events (actor_name, action, subject, details)
  SELECT 'Ada Admin <ada@contoso.test>', 'change_set.edited', 'change_set:' || (g % 1000),
         jsonb_build_object('i', g, 'after', jsonb_build_object('role', 'arn:aws:iam::123456789012:role/r' || (g % 50)))
  FROM generate_series(1, $ROWS) g"
echo "inserted $ROWS chained events in $(echo "$(date +%s.%N) - $start" | bc) s (the trigger hashes each)"

# psql: the same columns, in the same order, as CSV.
start=$(date +%s.%N)
psql "$URL" -qc "\\copy (SELECT seq, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), coalesce(actor_tid::text, ''), coalesce(actor_oid::text, ''), actor_name, action, coalesce(subject, ''), details::text, prev_hash, hash FROM audit_events ORDER BY seq) to '$OUT/psql.csv' csv"
psql_secs=$(echo "$(date +%s.%N) - $start" | bc)

# Gatehouse: the export, its peak resident memory read from /proc while it runs.
start=$(date +%s.%N)
DATABASE_URL="$URL" "$BIN" audit export --format csv --out "$OUT/gatehouse.csv" >/dev/null 2>&1 &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
  [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
  sleep 0.05
done
wait "$pid"
gh_secs=$(echo "$(date +%s.%N) - $start" | bc)

psql_rate=$(echo "$ROWS / $psql_secs" | bc)
gh_rate=$(echo "$ROWS / $gh_secs" | bc)
echo "psql \\copy csv:          $psql_secs s  $psql_rate rows/s  $(stat -c %s "$OUT/psql.csv") bytes"
echo "gatehouse audit export:  $gh_secs s  $gh_rate rows/s  $(stat -c %s "$OUT/gatehouse.csv") bytes (with the header, formula guard and manifest)"
echo "ratio gatehouse/psql speed: $(echo "scale=2; $gh_rate / $psql_rate" | bc)"
echo "gatehouse peak resident memory during the export: $((peak / 1024)) MiB"
start=$(date +%s.%N)
"$BIN" audit verify --export "$OUT/gatehouse.csv" --manifest "$OUT/gatehouse.csv.manifest.json"
echo "offline verify: $(echo "$(date +%s.%N) - $start" | bc) s"
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB"

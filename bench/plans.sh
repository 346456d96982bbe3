#!/usr/bin/env bash
# The History filters' query plans at 1,000,000 events: EXPLAIN ANALYZE of the page query each
# filter makes (as app/src/backend/history/store.rs writes it), its plan's shape and time.
# Fails when a plan filters more than 100,000 rows or takes over 50 ms: an index must serve it.
# Usage: bash bench/plans.sh [database]   (default gatehouse_scale_1, made by bench/scale.sh;
# seeded here when missing)
set -euo pipefail
source "$(dirname "$0")/../end2end/stack/lib.sh"
cd "$ROOT"
ensure_postgres
db=${1:-gatehouse_scale_1}
url="${PG_ADMIN_URL%/*}/$db"
if ! psql "$url" -qAtc "SELECT 1 FROM audit_events LIMIT 1" >/dev/null 2>&1; then
  cargo build -q -p server
  recreate_database "$db"
  DATABASE_URL="$url" "$ROOT/target/debug/gatehouse" seed-scale --factor 1 | grep -v "^  "
fi
psql "$url" -qAtc "SELECT count(*) || ' events' FROM audit_events"
day=$(psql "$url" -qAtc "SELECT (min(occurred_at) + interval '200 days')::date FROM audit_events")
week=$(psql "$url" -qAtc "SELECT (min(occurred_at) + interval '30 days')::date FROM audit_events")
from_seq() { echo "seq >= coalesce((SELECT seq FROM audit_events WHERE occurred_at >= '$1'::timestamptz ORDER BY occurred_at, seq LIMIT 1), 9223372036854775807)"; }
to_seq() { echo "seq < coalesce((SELECT seq FROM audit_events WHERE occurred_at >= '$1'::timestamptz ORDER BY occurred_at, seq LIMIT 1), 9223372036854775807)"; }
failed=0
check() { # label, WHERE clause
  check_sql "$1" "SELECT seq FROM audit_events WHERE true AND $2 ORDER BY seq DESC LIMIT 51"
}
# Filtered by actor, a page walks each matching actor's events (store.rs, page_query).
actor_check() { # label, name pattern, more of the WHERE clause
  check_sql "$1" "SELECT e.seq FROM audit_actors a CROSS JOIN LATERAL (SELECT seq FROM audit_events WHERE true AND actor_name = a.name ${3:-} ORDER BY seq DESC LIMIT 51) e WHERE a.name ILIKE '$2' ORDER BY e.seq DESC LIMIT 51"
}
check_sql() { # label, SQL
  local plan time removed
  plan=$(psql "$url" -qAt -c "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) $2")
  time=$(grep -o 'Execution Time: [0-9.]*' <<<"$plan" | grep -o '[0-9.]*$')
  removed=$({ grep -o 'Rows Removed by Filter: [0-9]*' <<<"$plan" || true; } | grep -o '[0-9]*$' | sort -n | tail -1 || true)
  printf '%-34s %8s ms  %s\n' "$1" "$time" "$(grep -o '\(Index Only Scan\|Index Scan\|Bitmap Index Scan\)[^(]*' <<<"$plan" | sed 's/ on audit_events\( .*\|$\)//; s/  */ /g' | sort -u | paste -sd';')"
  if awk -v t="$time" 'BEGIN { exit !(t > 50) }' || [ "${removed:-0}" -gt 100000 ]; then
    echo "  too slow or unindexed (filtered ${removed:-0} rows):"; sed 's/^/    /' <<<"$plan"; failed=1
  fi
}
actor_check "actor contains (one actor)" "%Person 17%"
actor_check "actor contains (every actor)" "%Person%"
actor_check "actor contains (nobody)" "%Nobody Here%"
check "action family (common)" "(action = 'push' OR action LIKE 'push.%')"
check "action (rare or absent)" "(action = 'auth.sessions_ended' OR action LIKE 'auth.sessions\\_ended.%')"
check "change set" "subject = 'change_set:77'"
check "mentions (rare)" "(coalesce(subject, '') || ' ' || details::text) ILIKE '%bench-role-0042%'"
check "one day, 200 days back" "occurred_at >= '$day'::timestamptz AND $(from_seq "$day") AND occurred_at < '$day'::timestamptz + interval '1 day' AND $(to_seq "$day 23:59:59.999999")"
check "from a date to now" "occurred_at >= '$week'::timestamptz AND $(from_seq "$week")"
actor_check "one day + actor" "%Person 3%" "AND occurred_at >= '$day'::timestamptz AND $(from_seq "$day") AND occurred_at < '$day'::timestamptz + interval '1 day' AND $(to_seq "$day 23:59:59.999999")"
# The lists' pages, as their queries read them (app/src/backend/catalog and mappings): a page
# reads its rows by index, whatever the number of roles, APIs or bindings.
list_check() { # label, SQL
  local plan time
  plan=$(psql "$url" -qAt -c "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) $2")
  time=$(grep -o 'Execution Time: [0-9.]*' <<<"$plan" | grep -o '[0-9.]*$')
  printf '%-34s %8s ms  %s\n' "$1" "$time" "$(grep -o '\(Seq Scan\|Index Only Scan\|Index Scan\|Bitmap Index Scan\)[^(]*' <<<"$plan" | sed 's/  */ /g; s/ *$//' | sort -u | paste -sd';')"
  if awk -v t="$time" 'BEGIN { exit !(t > 50) }'; then
    echo "  too slow:"; sed 's/^/    /' <<<"$plan"; failed=1
  fi
}
list_check "roles, a page" "SELECT arn FROM iam_roles WHERE true AND list_key > '00' ORDER BY list_key LIMIT 51"
list_check "APIs, a page by methods" "SELECT api_id FROM rest_apis a ORDER BY (a.gone_at IS NOT NULL), a.method_count DESC, lower(a.name) LIMIT 51"
list_check "mappings, a page" "SELECT b.group_id FROM bindings b ORDER BY b.sort_name, b.group_source, b.group_id, b.role_arn LIMIT 51"
exit $failed

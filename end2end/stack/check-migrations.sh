#!/usr/bin/env bash
# Migrations are append-only: once a migration is on main, a deployed database has run it and
# records its checksum, and would refuse a changed file. This fails when a migration that was
# on main (at or after the commit below, where the rule began) was edited, renamed or removed.
set -euo pipefail
cd "$(dirname "$0")/../.."
SINCE=6ba96c8f6be382ce0b6bef56764f8c330ee38386

status=0
# 1. Each migration's SHA-256 as it landed (works in a shallow clone too). A new migration adds
#    its line: sha256sum migrations/NEW.sql >> end2end/stack/migrations.sha256
sums=end2end/stack/migrations.sha256
if ! sha256sum --quiet -c "$sums" >&2; then
  echo "a migration that landed was edited or removed; add a new migration instead" >&2
  status=1
fi
for file in migrations/*.sql; do
  grep -q " $file\$" "$sums" || { echo "$file has no line in $sums; add one" >&2; status=1; }
done
# 2. With the history: every migration as first committed, so the sums cannot be edited along.
if ! git cat-file -e "$SINCE^{commit}" 2>/dev/null; then
  echo "check-migrations: no history since ${SINCE:0:7} in this clone (shallow): checked the sums only" >&2
  exit $status
fi
# Every migration that ever existed since the rule began, as first committed (or as of SINCE).
while read -r file; do
  first=$(git log --format=%H --diff-filter=A --reverse "$SINCE..HEAD" -- "$file" | head -n1)
  ref=${first:-$SINCE}
  if ! git cat-file -e "HEAD:$file" 2>/dev/null; then
    echo "migration $file was removed or renamed after it landed; add a new migration instead" >&2
    status=1
  elif ! git diff --quiet "$ref" HEAD -- "$file"; then
    echo "migration $file was edited after it landed (since ${ref:0:7}); add a new migration instead" >&2
    status=1
  elif [ -n "$(git status --porcelain -- "$file")" ]; then
    echo "migration $file has uncommitted edits; migrations that landed are append-only" >&2
    status=1
  fi
done < <({ git ls-tree -r --name-only "$SINCE" -- migrations; \
           git log --format= --name-only --diff-filter=A "$SINCE..HEAD" -- migrations; } | sort -u)
[ $status = 0 ] && echo "migrations: every migration that landed is unchanged"
exit $status

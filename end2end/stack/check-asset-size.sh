#!/usr/bin/env bash
# Prints the size of the site files a release build made (raw and gzip) and fails when one is
# over its budget (asset-budget.env). Run after `cargo leptos build --release`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkg="${LEPTOS_SITE_ROOT:-$here/../../target/site}/pkg"
source "$here/asset-budget.env"
status=0
check() { # kind extension budget-KiB
  local kind=$1 ext=$2 budget=$3 file raw gz
  # The hashed name (gatehouse.<hash>.wasm) of a release build, else the plain one.
  file=$(find "$pkg" -maxdepth 1 -name "gatehouse*.$ext" | head -n1)
  if [ -z "$file" ]; then
    echo "no $kind file in $pkg: build the site first (cargo leptos build --release)" >&2
    exit 1
  fi
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  # What browsers that take brotli get: the precompressed copy, when the build made one.
  br=""
  [ -f "$file.br" ] && br=$(printf '%8.1f KiB brotli' "$(awk "BEGIN{print $(stat -c %s "$file.br")/1024}")")
  printf '%-5s %-42s %8.1f KiB raw %8.1f KiB gzip%s   budget %4d KiB gzip' \
    "$kind" "$(basename "$file")" "$(awk "BEGIN{print $raw/1024}")" "$(awk "BEGIN{print $gz/1024}")" "$br" "$budget"
  if [ "$gz" -gt $((budget * 1024)) ]; then
    echo "   OVER BUDGET"
    status=1
  else
    echo
  fi
}
check wasm wasm "$WASM_GZIP_KIB"
check js js "$JS_GZIP_KIB"
check css css "$CSS_GZIP_KIB"
exit $status

#!/usr/bin/env bash
# The server has the whole stack; the browser's WASM bundle has none of the server's crates.
set -euo pipefail
cd "$(dirname "$0")/../.."
server=$(cargo tree -p server -e normal --prefix none)
for crate in leptos axum tokio sqlx openidconnect tower-sessions aws-sdk-apigateway aws-sdk-iam; do
  grep -q "^$crate v" <<<"$server" || { echo "server is missing $crate" >&2; exit 1; }
done
wasm=$(cargo tree -p app --features hydrate --target wasm32-unknown-unknown -e normal,features --prefix none)
for forbidden in '^sqlx' '^openidconnect' '^aws-' '^tower-sessions' '^tokio feature "net"' '^mio ' '^jsonwebtoken' '^lambda_runtime'; do
  if grep -q "$forbidden" <<<"$wasm"; then
    echo "the wasm build pulls a server-only crate: $(grep -m1 "$forbidden" <<<"$wasm")" >&2
    exit 1
  fi
done
echo "dependency check: server has the stack; the wasm bundle has no sqlx, tokio net, openidconnect, aws-*, tower-sessions, jsonwebtoken, lambda_runtime"

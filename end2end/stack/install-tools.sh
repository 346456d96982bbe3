#!/usr/bin/env bash
# Installs the build tools the project needs and cannot get as prebuilt binaries here:
# the wasm target, cargo-leptos, the wasm-bindgen CLI (pinned to the lock file's version) and cargo-deny.
# Each step is skipped when the tool already answers with the right version.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130
work=${TMPDIR:-/tmp}/gatehouse-tools
mkdir -p "$work"

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

registry_src() { # prints the unpacked source folder of crate $1 at version $2, fetching it if needed
  local name=$1 version=$2 dir
  dir=$(ls -d "$HOME"/.cargo/registry/src/*/"$name-$version" 2>/dev/null | head -n1 || true)
  if [ -z "$dir" ]; then
    # The install fails (toolchain or lock file), but it leaves the source unpacked in the registry.
    cargo install "$name" --version "$version" --locked --root "$work/throwaway" >/dev/null 2>&1 || true
    dir=$(ls -d "$HOME"/.cargo/registry/src/*/"$name-$version" | head -n1)
  fi
  echo "$dir"
}

# Debug builds of the tools are good enough and build several times faster on 2 cores.
export CARGO_PROFILE_DEV_DEBUG=0

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  src=$(registry_src cargo-leptos "$CARGO_LEPTOS_VERSION")
  rm -rf "$work/cargo-leptos" && cp -r "$src" "$work/cargo-leptos"
  # Its lock file pins cargo-util-schemas 0.14.2, which needs a newer rustc than this machine has.
  (cd "$work/cargo-leptos" && cargo update -p cargo-util-schemas --precise 0.14.1)
  cargo install --path "$work/cargo-leptos" --locked --debug --force
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  src=$(registry_src wasm-bindgen-cli "$WASM_BINDGEN_VERSION")
  rm -rf "$work/wasm-bindgen-cli" && cp -r "$src" "$work/wasm-bindgen-cli"
  # Its lock file pins webpki-roots 1.0.11, which the registry no longer serves.
  (cd "$work/wasm-bindgen-cli" && cargo update -p webpki-roots --precise 1.0.10)
  cargo install --path "$work/wasm-bindgen-cli" --locked --debug --force
fi

# Licences, banned crates (the legacy TLS stack) and sources: deny.toml.
CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$CARGO_DENY_VERSION"; then
  cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --debug --force
fi

#!/usr/bin/env bash
# `cargo test --workspace` and the binary's build (`cargo leptos build`) must resolve every crate
# they share with the same features: in the same profile, a crate whose features differ is
# compiled twice, with everything that depends on it (~690 crates were, before). The tests'
# dev-dependencies are what turn extra features on; server/Cargo.toml turns the same ones on for
# the binary. This fails naming each crate whose features differ.
set -euo pipefail
cd "$(dirname "$0")/../.."
host=$(rustc -vV | sed -n 's/^host: //p')
features() { # one "crate version|features" line per build of a crate (host and target builds differ)
  cargo tree "$@" --target "$host" -f '{p}|{f}' --prefix none | sed 's/ (\*)$//; s/ (proc-macro)$//' | sort -u
}
binary=$(features -p server -e no-dev)
tests=$(features --workspace)
# For each crate in the binary's build: its set of feature lists must equal the tests' set.
differ=$(awk -F'|' '
  FNR == NR { tests[$1] = tests[$1] "\n" $2; next }
  { binary[$1] = binary[$1] "\n" $2 }
  function shown(lists) { sub(/^\n/, "", lists); gsub(/\n/, " | ", lists); return "[" lists "]" }
  END {
    for (c in binary) if (c in tests) {
      nb = split(binary[c], b, "\n"); nt = split(tests[c], t, "\n")
      same = (nb == nt); for (i = 1; same && i <= nb; i++) same = (b[i] == t[i])
      if (!same) printf "%s\n  binary: %s\n  tests:  %s\n", c, shown(binary[c]), shown(tests[c])
    }
  }' <(echo "$tests") <(echo "$binary"))
if [ -n "$differ" ]; then
  echo "these crates get other features in the tests than in the binary, so CI would compile them twice:" >&2
  echo "$differ" >&2
  echo "turn the tests' features on in server/Cargo.toml (see the comment there)" >&2
  exit 1
fi
echo "feature alignment: the tests and the binary build every shared crate with the same features ($(wc -l <<<"$binary") builds)"

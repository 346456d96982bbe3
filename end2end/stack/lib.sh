# Shared by demo.sh and test.sh: installs what the stack needs (idempotent) and starts its parts.
# Everything it writes lives under .data/ (ignored by git). Source it; do not run it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA="$ROOT/.data"
# Where `cargo leptos build` puts the server (cargo honours CARGO_TARGET_DIR); build_site changes it.
GATEHOUSE_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/gatehouse"
mkdir -p "$DATA"
STACK_PIDS=()
# wasm-opt for release builds comes from npm's binaryen (Debian's is too old: its output does
# not hydrate); cargo-leptos finds it on PATH.
export PATH="$ROOT/end2end/node_modules/.bin:$PATH"

say() { printf '\033[1m==> %s %s\033[0m\n' "$(date +%H:%M:%S)" "$*"; }

stop_stack() {
  for pid in "${STACK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# The machine's packages (Chromium for the browser tests), Python's moto, Node's packages, and
# the Rust tools that cannot be had as binaries here.
setup_tools() {
  if ! command -v chromium >/dev/null 2>&1; then
    say "installing Chromium (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if ! command -v samba-tool >/dev/null 2>&1; then
    say "installing Samba (the Active Directory the LDAP tests run against)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq samba winbind ldap-utils >/dev/null
  fi
  if ! command -v buildah >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
    say "installing buildah, podman and runc (the container image is built and run in the tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah podman runc >/dev/null
  fi
  if ! command -v psql >/dev/null 2>&1; then
    say "installing the PostgreSQL client"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  fi
  if [ ! -x "$DATA/venv/bin/moto_server" ]; then
    say "installing moto (AWS endpoint) into .data/venv"
    python3 -m venv "$DATA/venv"
    "$DATA/venv/bin/pip" install -q 'moto[server]==5.2.5'
  fi
  if [ ! -d "$ROOT/end2end/node_modules/oidc-provider" ] || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing node packages (end2end/)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  bash "$ROOT/end2end/stack/install-tools.sh"
}

# Builds the site and the server the demo and the end-to-end run use, and sets GATEHOUSE_BIN.
#   release-site (default): the site exactly as it ships (wasm built in release and optimised by
#     wasm-opt, content-hashed, precompressed) served by the server of the tests' own build (dev
#     profile, which `cargo test` has compiled already). An optimised server compiles each of its
#     ~700 dependencies once more at opt-level 3: half of a clean CI run, for a binary made of the
#     same code the tests already ran.
#   release: everything as it ships (`cargo leptos build --release --precompress`).
#   debug: the quickest build while working on a test (`cargo leptos build`).
build_site() { # profile
  local target="${CARGO_TARGET_DIR:-$ROOT/target}"
  case "$1" in
    release-site)
      # The site again only when a source it is made of changed since it was made: cargo would
      # find nothing to compile, but wasm-bindgen, wasm-opt and the compression run every time
      # (a minute and a half).
      local stamp="$target/site/.made"
      if [ -f "$stamp" ] && [ -f "$target/release/hash.txt" ] && [ -z "$(find app authorizer style public \
          Cargo.toml Cargo.lock .cargo -newer "$stamp" -print -quit 2>/dev/null)" ]; then
        echo "the site in $target/site is current"
      else
        # cargo-leptos empties the site first, so the server is built after it, by cargo itself
        # as cargo-leptos would (`--no-default-features`).
        cargo leptos build --release --precompress --frontend-only
        touch "$stamp"
      fi
      cargo build -p server --bin gatehouse --no-default-features
      # The server reads the hashed names from hash.txt beside its binary.
      cp "$target/release/hash.txt" "$target/debug/hash.txt"
      GATEHOUSE_BIN="$target/debug/gatehouse" ;;
    release)
      cargo leptos build --release --precompress
      GATEHOUSE_BIN="$target/release/gatehouse" ;;
    debug)
      cargo leptos build
      GATEHOUSE_BIN="$target/debug/gatehouse" ;;
    *) echo "unknown build profile '$1' (release-site, release or debug)" >&2; return 1 ;;
  esac
}

# Sets PG_ADMIN_URL to a server where we may create databases: $DATABASE_URL's server if set,
# else the machine's PostgreSQL on 127.0.0.1:5432, else a throwaway cluster under .data/.
ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    PG_ADMIN_URL="${DATABASE_URL%/*}/postgres"
    return
  fi
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    PG_ADMIN_URL="postgres://postgres@127.0.0.1:5432/postgres"
    return
  fi
  local port=55432 bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  if [ -z "$bin" ]; then
    say "installing PostgreSQL (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  if ! pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
    say "starting a throwaway PostgreSQL cluster in .data/pg on port $port"
    mkdir -p "$DATA/pg" && chown postgres "$DATA/pg"
    if [ ! -f "$DATA/pg/data/PG_VERSION" ]; then
      su postgres -c "$bin/initdb -D '$DATA/pg/data' -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    fi
    su postgres -c "$bin/pg_ctl -D '$DATA/pg/data' -l '$DATA/pg/log' -o \"-c listen_addresses=127.0.0.1 -p $port -k '$DATA/pg'\" -w start" >/dev/null
  fi
  PG_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

recreate_database() { # name: drops it if it exists, creates it empty (and its checkpoints)
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" 2>/dev/null
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE \"$1\""
  rm -f "$DATA"/audit-checkpoints-*.jsonl
}

# Two database roles, as in production: the owner migrates, the server runs as gatehouse_app,
# which holds gatehouse_runtime (it may only add to and read the audit log). Sets DATABASE_URL
# and GATEHOUSE_OWNER_DATABASE_URL for database $1 and brings its schema up to date.
use_two_roles() { # database name
  local base="${PG_ADMIN_URL%/*}"
  psql "$PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_runtime') THEN
    CREATE ROLE gatehouse_runtime NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_app') THEN
    CREATE ROLE gatehouse_app LOGIN PASSWORD 'gatehouse-demo' IN ROLE gatehouse_runtime;
  END IF;
END $$;
SQL
  export GATEHOUSE_OWNER_DATABASE_URL="$base/$1"
  export DATABASE_URL="postgres://gatehouse_app:gatehouse-demo@${base#*@}/$1"
  GATEHOUSE_OWNER_DATABASE_URL="$GATEHOUSE_OWNER_DATABASE_URL" "$GATEHOUSE_BIN" migrate >/dev/null
  # The server itself never needs the owner.
  unset GATEHOUSE_OWNER_DATABASE_URL
}

wait_for_url() { # url, what
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$2 did not come up at $1" >&2
  return 1
}

start_moto() { # port
  # moto_server, with the Identity Center parts moto lacks filled in (see moto_server.py).
  "$DATA/venv/bin/python" "$ROOT/end2end/stack/moto_server.py" -H 127.0.0.1 -p "$1" >"$DATA/moto-$1.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_url "http://127.0.0.1:$1/moto-api/" "moto_server"
}

start_oidc() { # port
  OIDC_PORT="$1" node "$ROOT/end2end/oidc/provider.mjs" >"$DATA/oidc-$1.log" 2>&1 &
  STACK_PIDS+=($!)
  wait_for_url "http://127.0.0.1:$1/" "the OpenID Connect provider"
}

# The demo tenant, groups and app role of end2end/oidc/demo-users.mjs.
demo_settings() { # gatehouse port, oidc port, moto port
  export GATEHOUSE_LISTEN="127.0.0.1:$1"
  export GATEHOUSE_BASE_URL="http://127.0.0.1:$1"
  export GATEHOUSE_OIDC_ISSUER="http://127.0.0.1:$2/3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f/v2.0"
  export GATEHOUSE_OIDC_CLIENT_ID=gatehouse
  export GATEHOUSE_OIDC_CLIENT_SECRET=gatehouse-demo-secret
  export GATEHOUSE_ALLOWED_TENANTS=3f2b8c1e-5d4a-4e8b-9c7d-1a2b3c4d5e6f
  export GATEHOUSE_ADMIN_GROUPS=a1d0c6e8-3f4b-4c2a-9e1d-7b8c9d0e1f20
  export GATEHOUSE_AUDITOR_GROUPS=b2e1d7f9-4a5c-4d3b-8f2e-8c9d0e1f2031
  export GATEHOUSE_REVIEWER_APP_ROLES=Gatehouse.Reviewer
  export AWS_ENDPOINT_URL="http://127.0.0.1:$3" GATEHOUSE_AWS_ACCOUNT_ID=123456789012
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export LEPTOS_SITE_ROOT="$ROOT/target/site"
  # The demo's directory is a file of groups (the real thing is Microsoft Graph or LDAP).
  export GATEHOUSE_DIRECTORY=file GATEHOUSE_DIRECTORY_FILE="$ROOT/end2end/stack/demo-directory.json"
  export GATEHOUSE_SYNC_INTERVAL_MINUTES="${GATEHOUSE_SYNC_INTERVAL_MINUTES:-15}"
  # Pushes keep each API's resource policy (callers in other accounts need it); deployments are
  # spaced 1 s apart instead of API Gateway's 5 s.
  export GATEHOUSE_RESOURCE_POLICY=true GATEHOUSE_PUSH_DEPLOY_INTERVAL_MS=1000
  # Bindings become IAM Identity Center account assignments of SCIM-provisioned groups
  # (seed-demo provisions the demo directory's groups into moto's identity store).
  export GATEHOUSE_ENFORCEMENT="${GATEHOUSE_ENFORCEMENT:-identity-center}"
  export GATEHOUSE_DRIFT_INTERVAL_MINUTES="${GATEHOUSE_DRIFT_INTERVAL_MINUTES:-15}"
  # Token mode beside it: each push publishes the access bundle Gatehouse's Lambda authorizer
  # reads (seed-demo makes the bucket), and "Try a call" checks access tokens for the demo API
  # audience the local provider issues (client gatehouse-cli, resource api://gatehouse-apis).
  export GATEHOUSE_ACCESS_BUNDLE=s3://gatehouse-authorizer/access-bundle.json.gz
  export GATEHOUSE_API_AUDIENCES=api://gatehouse-apis
  # inventory-api is token mode's whole path: pushes give it Gatehouse's authorizer and set each
  # granted method to CUSTOM with it (end2end/stack/moto_server.py supplies moto's UpdateMethod).
  export GATEHOUSE_ATTACH_AUTHORIZER="${GATEHOUSE_ATTACH_AUTHORIZER-inventory-api}"
  # The audit key signs checkpoints of the chain (appended to a file outside the database) and
  # export manifests; `gatehouse audit verify --public-key "$(cat .data/audit.pub)"` checks both.
  export GATEHOUSE_AUDIT_KEY_FILE="$DATA/audit.key"
  export GATEHOUSE_AUDIT_ANCHOR_FILE="$DATA/audit-checkpoints-$1.jsonl"
  if [ ! -f "$GATEHOUSE_AUDIT_KEY_FILE" ]; then
    "$GATEHOUSE_BIN" audit keygen --out "$GATEHOUSE_AUDIT_KEY_FILE" >"$DATA/audit.pub" 2>/dev/null
  fi
}

#!/usr/bin/env bash
# Starts the release server (make build first) on a throwaway SQLite database with demo data
# and measures an incident page's first load with scripts/first-load.mjs (see there for how).
# Usage: scripts/first-load.sh [PATH] [RUNS]   (default /incidents/INC-1, 3 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${NIGHTWATCH_BIN:-$root/target/release/nightwatch}
port=${PORT:-3961}
state=$(mktemp -d)
export NIGHTWATCH_DATABASE_URL="sqlite://$state/load.db"
export LEPTOS_SITE_ROOT=${LEPTOS_SITE_ROOT:-$root/target/site}
export RUST_LOG=warn
"$bin" demo-data >/dev/null
printf 'first load password\n' | "$bin" user create --username first-load --role viewer --password-stdin >/dev/null
"$bin" serve --addr "127.0.0.1:$port" >"$state/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$state"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
node scripts/first-load.mjs "http://127.0.0.1:$port" first-load 'first load password' "${1:-/incidents/INC-1}" "${2:-3}"

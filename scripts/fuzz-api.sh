#!/usr/bin/env bash
# Fuzzes the REST API against its own OpenAPI description with schemathesis: the release server
# on a fresh SQLite database with demo data and an admin token; every documented operation is
# called with examples, boundary values and random (valid and invalid) input, and each answer is
# checked: no 5xx, a documented status, content type and headers, a body matching its schema,
# and invalid input refused with a 4xx. Extra arguments go to `schemathesis run`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${NIGHTWATCH_BIN:-$root/target/release/nightwatch}
venv=$root/.tools/venv
port=${FUZZ_PORT:-3918}
state=$(mktemp -d)

[ -x "$bin" ] || { echo "no release binary at $bin: run 'make build' first" >&2; exit 1; }
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi

export NIGHTWATCH_DATABASE_URL="sqlite://$state/fuzz.db"
export LEPTOS_SITE_ROOT="$root/target/site"
export NIGHTWATCH_API_RATE_PER_MINUTE=1000000
export RUST_LOG=${RUST_LOG:-warn}
"$bin" demo-data --incidents 30 >/dev/null
token=$("$bin" token create --name schemathesis --role admin | tail -n1)

"$bin" serve --addr "127.0.0.1:$port" >"$state/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ "${keep_log:-0}" = 1 ]; then echo "--- server log ---"; grep -E "ERROR|panicked" "$state/server.log" | tail -n 40 || true; fi
  rm -rf "$state"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

# One worker: on Python 3.11, hypothesis parsing sources in two threads at once trips CPython's
# "AST constructor recursion depth mismatch" (gh-106905) now and then, which would make the run
# flaky for a reason that is not ours.
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection \
  --phases examples,coverage,fuzzing \
  --max-examples "${FUZZ_EXAMPLES:-25}" \
  --seed "${FUZZ_SEED:-20261129}" \
  --workers 1 \
  --request-timeout 10 \
  --no-color "$@" || { keep_log=1; exit 1; }

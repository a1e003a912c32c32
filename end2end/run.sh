#!/usr/bin/env bash
# Runs the Playwright suite in Debian's Chromium against the release server, on a fresh SQLite
# database with two users of known passwords. Extra arguments go to `playwright test`.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
bin=${NIGHTWATCH_BIN:-$root/target/release/nightwatch}
port=${E2E_PORT:-3917}
state=$(mktemp -d)

export NIGHTWATCH_DATABASE_URL="sqlite://$state/e2e.db"
export LEPTOS_SITE_ROOT="$root/target/site"
export RUST_LOG=${RUST_LOG:-info}

[ -x "$bin" ] || { echo "no release binary at $bin: run 'make build' first" >&2; exit 1; }

printf 'e2e admin password\n' | "$bin" user create --username e2e-admin --role admin --password-stdin
printf 'e2e viewer password\n' | "$bin" user create --username e2e-viewer --role viewer --password-stdin
printf 'e2e commander password\n' | "$bin" user create --username e2e-commander --role commander --password-stdin
# A monitoring system's token: the risk board's tests send alerts with it.
E2E_ALERT_TOKEN=$("$bin" token create --name e2e-alerts --role viewer --scope alerts:write | tail -n 1)
export E2E_ALERT_TOKEN

"$bin" serve --addr "127.0.0.1:$port" >"$state/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ "${keep_log:-0}" = 1 ]; then
    # What went wrong on the server side of a failed run: every warning and error, then the end.
    echo "--- server log: warnings and errors ---"; sed 's/\x1b\[[0-9;]*m//g' "$state/server.log" | grep -E ' (WARN|ERROR) ' | tail -n 200 || true
    echo "--- server log: last lines ---"; tail -n 40 "$state/server.log"
    if [ -n "${E2E_KEEP_LOG:-}" ]; then cp "$state/server.log" "$E2E_KEEP_LOG"; fi
    # Last, so that a CI page showing only the end of the output names the tests that failed.
    if [ -s "$state/playwright.log" ]; then
      echo "--- Playwright: the failures again ---"
      sed -n '/^  [0-9]* failed/,$p' "$state/playwright.log"
      grep -E '^\s+✘' "$state/playwright.log" | tail -n 20 || true
    fi
  fi
  rm -rf "$state"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { keep_log=1; echo "the server did not start" >&2; exit 1; }

export NIGHTWATCH_BIN="$bin"
export E2E_BASE_URL="http://127.0.0.1:$port"
npx playwright test "$@" 2>&1 | tee "$state/playwright.log" || { keep_log=1; exit 1; }

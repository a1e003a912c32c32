#!/usr/bin/env bash
# Load test of the release server with wrk (make build first; Debian's `wrk` package): fills a
# SQLite database with N demo incidents (kept in $LOAD_DIR and reused), serves it, signs a viewer
# in and loads pages from CONNECTIONS keep-alive connections for DURATION each, beside an axum
# "Hello, World!" (examples/hello.rs) measured the same way in the same run, the yardstick.
#
# Usage: scripts/load.sh [INCIDENTS] [SCENARIO...]
#   INCIDENTS  default 100000
#   SCENARIO   hello healthz list api board mixed declare (default: hello healthz list api)
# Environment: CONNECTIONS (64), DURATION (15s), THREADS (2), LOAD_DIR (/tmp/nightwatch-load),
#   NIGHTWATCH_DB_MAX_CONNECTIONS (the server's pool, default 10).
# Prints a Markdown table; the README's figures come from it. The server's log is kept in
# $LOAD_DIR/server.log ("slow acquire" warnings there are pool waits over 100 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
n=${1:-100000}
shift || true
scenarios=${*:-hello healthz list api}
conns=${CONNECTIONS:-64}
duration=${DURATION:-15s}
threads=${THREADS:-2}
work=${LOAD_DIR:-/tmp/nightwatch-load}
target=${CARGO_TARGET_DIR:-$root/target}
bin=$target/release/nightwatch
port=${PORT:-3971}
hello_port=$((port + 1))
base=http://127.0.0.1:$port

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
[ -x "$bin" ] || { echo "$bin is missing: run make build first" >&2; exit 1; }
cargo build --quiet --release --no-default-features --features ssr --example hello
mkdir -p "$work"

db=$work/incidents-$n.db
export NIGHTWATCH_DATABASE_URL="sqlite://$db"
export LEPTOS_SITE_ROOT=$target/site
export RUST_LOG=${RUST_LOG:-warn}
# The API rate limit (600 a minute per token by default) lifted: this measures the server.
export NIGHTWATCH_API_RATE_PER_MINUTE=1000000000
if [ ! -f "$db" ]; then
  echo "filling $db with $n incidents (once; reused later)" >&2
  "$bin" demo-data --incidents "$n" >/dev/null
  printf 'load test password\n' | "$bin" user create --username load --role commander --password-stdin >/dev/null
fi

"$bin" serve --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
"$target/release/examples/hello" "127.0.0.1:$hello_port" &
hello=$!
trap 'kill $server $hello 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do curl -fsS "$base/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

cookie=$(curl -fsS -D - -o /dev/null -H 'Accept: application/json' \
  --data 'username=load&password=load+test+password' "$base/api/login" |
  tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | head -1)
[ -n "$cookie" ] || { echo "could not sign in" >&2; exit 1; }
# A REST token, made once per run (the CLI prints it alone on the last line).
token=$("$bin" token create --name "load-$$" --role commander | tail -1)

# wrk's summary as "req/s | p50 | p99" (milliseconds); non-2xx answers are reported, not hidden.
run() {
  local out
  out=$(wrk -t"$threads" -c"$1" -d"$duration" --latency "${@:3}" "$2")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx/ {print $5}' <<<"$out")
  echo "$rps|$(ms "$p50")|$(ms "$p99")|${errors:-0}"
}
# wrk prints 812.00us, 12.34ms or 1.20s.
ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.1f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.0f", v * 1000 }
    else printf "%s", v }'
}

hello_rps=
row() {
  local name=$1 result=$2
  IFS='|' read -r rps p50 p99 errors <<<"$result"
  local share=""
  if [ -n "$hello_rps" ] && [ "$hello_rps" -gt 0 ]; then
    share=$(awk -v a="$rps" -v b="$hello_rps" 'BEGIN {printf "%.1f %%", 100 * a / b}')
  fi
  echo "| $name | $rps | $share | $p50 | $p99 | $errors |"
}

echo
echo "Load: $n incidents on SQLite, wrk -t$threads -c$conns -d$duration (keep-alive), $(nproc) cores shared by wrk and the server"
echo
echo "| request | req/s | of hello world | median ms | p99 ms | non-2xx |"
echo "|---|---|---|---|---|---|"
for scenario in $scenarios; do
  case $scenario in
  hello)
    result=$(run "$conns" "http://127.0.0.1:$hello_port/")
    hello_rps=${result%%|*}
    row "axum hello world (the yardstick)" "$result"
    ;;
  healthz)
    row "GET /healthz" "$(run "$conns" "$base/healthz")"
    ;;
  list)
    row "GET /incidents (page 1, server-rendered)" "$(run "$conns" "$base/incidents" -H "Cookie: $cookie")"
    row "GET /incidents?status=active" "$(run "$conns" "$base/incidents?status=active" -H "Cookie: $cookie")"
    row "GET /incidents, as a browser asks (gzip)" "$(run "$conns" "$base/incidents" -H "Cookie: $cookie" -H "Accept-Encoding: gzip, deflate, br")"
    ;;
  api)
    [ -n "$token" ] || { echo "no API token" >&2; exit 1; }
    row "GET /api/v1/incidents (page 1)" "$(run "$conns" "$base/api/v1/incidents" -H "Authorization: Bearer $token")"
    ;;
  board)
    row "GET /board (default view)" "$(run "$conns" "$base/board" -H "Cookie: $cookie")"
    ;;
  mixed)
    # The board under CONNECTIONS viewers while 8 more connections read the incident list.
    run "$conns" "$base/board" -H "Cookie: $cookie" >"$work/board.txt" &
    beside=$!
    sleep 1
    list=$(run 8 "$base/incidents" -H "Cookie: $cookie")
    wait $beside
    row "GET /board under $conns viewers" "$(cat "$work/board.txt")"
    row "GET /incidents (8 connections) meanwhile" "$list"
    ;;
  declare)
    [ -n "$token" ] || { echo "no API token" >&2; exit 1; }
    cat >"$work/declare.lua" <<'EOF'
counter = 0
request = function()
  counter = counter + 1
  local body = '{"title":"Load incident ' .. counter .. '","severity":"sev3","services":["load"]}'
  -- wrk.format's headers replace wrk.headers (the -H token): keep them.
  local headers = {["Content-Type"] = "application/json"}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format("POST", nil, headers, body)
end
EOF
    row "POST /api/v1/incidents (declare)" "$(run "$conns" "$base/api/v1/incidents" -H "Authorization: Bearer $token" -s "$work/declare.lua")"
    ;;
  *)
    echo "unknown scenario $scenario" >&2
    exit 1
    ;;
  esac
done
slow=$(grep -c "slow acquire\|exceeded slow threshold" "$work/server.log" || true)
echo
echo "Pool waits over the slow-acquire threshold in the server's log: ${slow:-0}"

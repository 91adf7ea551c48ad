#!/usr/bin/env bash
# Fault injection against a real PostgreSQL 15 cluster of its own (it is
# killed, stopped and restarted): circuit breakers, retries, deadlines with
# PQcancel, stale pooled connections, a connection lost mid-COMMIT.
#
# Usage (as root, es_saas installed): test/gateway/resilience/run.sh
#   ES_RESILIENCE_PORT  cluster port (default ES_TEST_PORT + 3, else 54332)
# The gateway reaches the database through test/gateway/resilience/proxy.pl,
# a TCP proxy that can drop a connection right after forwarding COMMIT.
# Binds 127.0.0.1 only; prints TAP and "N passed, N failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PORT=${ES_RESILIENCE_PORT:-$(( ${ES_TEST_PORT:-54329} + 3 ))}
BIN=$(pg_config --bindir)
TMP=$(mktemp -d /tmp/es_gw_res.XXXXXX)
chmod 755 "$TMP"
DIR=$TMP/cluster
# shellcheck source=../../lib/common.sh
. "$ROOT/test/lib/common.sh"
GWPID=; PXPID=

cleanup() {
  [ -n "$GWPID" ] && kill "$GWPID" 2>/dev/null
  [ -n "$PXPID" ] && kill -- "$PXPID" 2>/dev/null
  pkill -CONT -P 1 -u postgres -f "$DIR/data" 2>/dev/null
  "$ROOT/scripts/cluster.sh" stop "$DIR" >/dev/null 2>&1
  if [ -n "${E2E_KEEP:-}" ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pg_pids() { # postmaster and every child
  local pm; pm=$(head -1 "$DIR/data/postmaster.pid" 2>/dev/null)
  [ -n "$pm" ] && echo "$pm" $(pgrep -P "$pm")
}
psqlx() { psql -qXAt -h "$DIR" -p "$PORT" -U postgres "$@"; }

make -s -C "$ROOT/gateway" >/dev/null || { echo "not ok 1 - build"; echo "0 passed, 1 failed"; exit 1; }
"$ROOT/scripts/cluster.sh" start "$DIR" "$PORT" >/dev/null || { cat "$DIR"/*.log; echo "0 passed, 1 failed"; exit 1; }
psqlx -d postgres -c "CREATE DATABASE res" >/dev/null
psqlx -d res -c "CREATE EXTENSION es_saas" \
  -c "CREATE ROLE gw LOGIN PASSWORD 'gwpw' IN ROLE es_gateway" \
  -c "SELECT es_create_tenant('acme')" >/dev/null
check "cluster and database ready on 127.0.0.1:$PORT" test "$(psqlx -d res -c 'SELECT 1')" = 1

PXPORT=$(free_port)
mkdir -p "$TMP/ctl"
perl "$HERE/proxy.pl" "$PXPORT" "$PORT" "$TMP/ctl" &
PXPID=$!

SECRET=resilience-test-secret-0123456789abcdef
cat >"$TMP/res.yaml" <<YAML
circuit_breakers:
  event_store:
    failure_threshold: 3
    open_seconds: 2
    half_open_probes: 1
  query_handler:
    failure_threshold: 2
    open_seconds: 2
    half_open_probes: 1
retries:
  database:
    max_retries: 3
    initial_backoff_ms: 100
    multiplier: 2
timeouts:
  database_statement_ms: 1000
  command_ms: 6000
  query_ms: 4000
YAML
GWPORT=$(free_port)
B=http://127.0.0.1:$GWPORT
ES_DATABASE_URL="host=127.0.0.1 port=$PXPORT dbname=res user=gw password=gwpw" ES_LISTEN=127.0.0.1:$GWPORT \
  ES_CACHE_TTL_SECONDS=0 ES_JWT_SECRET=$SECRET ES_RESILIENCE_CONFIG=$TMP/res.yaml ES_POOL_SIZE=4 ES_POOL_WAIT_MS=1000 \
  "$ROOT/gateway/es-gateway" >"$TMP/gw.out" 2>"$TMP/gw.err" &
GWPID=$!
TOK=$(ES_JWT_SECRET=$SECRET "$ROOT/gateway/es-gateway" token --tenant acme)
for _ in $(seq 1 50); do curl -sf -o /dev/null "$B/health" && break; sleep 0.1; done
check "gateway up through the proxy" curl -sf -o /dev/null "$B/health"

cmd() { # body [extra curl args] -> prints status; body in $TMP/c.json, headers in $TMP/c.hdr
  local body=$1; shift
  curl -s -o "$TMP/c.json" -D "$TMP/c.hdr" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOK" \
    -H 'Content-Type: application/json' "$@" -d "$body" "$B/api/v1/commands/execute"
}
query() { # a query_handler call (read acct-1); prints status; body in $TMP/q.json, headers in $TMP/q.hdr
  curl -s -o "$TMP/q.json" -D "$TMP/q.hdr" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOK" \
    "$B/api/v1/streams/acct-1"
}
read_stream() { curl -s -o "$TMP/r.json" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOK" "$B/api/v1/streams/$1"; }
metric() { curl -s "$B/metrics" | awk -v k="$1" 'index($0, k " ") == 1 { print $2 }'; }
events_in() { psqlx -d res -c "SELECT count(*) FROM es_read_stream('acme', '$1', 1, 1000)"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# ---- baseline --------------------------------------------------------------
code=$(cmd '{"type":"append","stream":"acct-1","events":[{"type":"Opened","data":{}}]}')
check "baseline: command 200 (got $code)" test "$code" = 200
check "baseline: /health ok, both breakers closed" \
  bash -c "curl -s '$B/health' | jq -e '.status == \"ok\" and .circuit_breakers.event_store == \"closed\" and .circuit_breakers.query_handler == \"closed\"' >/dev/null"

# ---- connection lost mid-COMMIT: the retry returns the stored result ---------
R0=$(metric 'es_gateway_db_retries_total{service="event_store",reason="connection"}')
touch "$TMP/ctl/drop_commit"
code=$(cmd '{"type":"append","stream":"commit-1","events":[{"type":"Paid","data":{"n":1}}]}')
check "lost mid-COMMIT, gateway-generated id: 200 after a retry (got $code)" test "$code" = 200
check "... the proxy did drop the connection after COMMIT" bash -c "ls '$TMP/ctl' | grep -q '^dropped'"
check "... stored once (events in commit-1: $(events_in commit-1))" test "$(events_in commit-1)" = 1
check "... the answer is the stored result (version 1)" test "$(jq -r .version "$TMP/c.json")" = 1
R1=$(metric 'es_gateway_db_retries_total{service="event_store",reason="connection"}')
check "... es_gateway_db_retries_total{event_store,connection} went up ($R0 -> $R1)" test "$R1" -gt "$R0"
rm -f "$TMP/ctl"/dropped.*
touch "$TMP/ctl/drop_commit"
code=$(cmd '{"type":"append","stream":"commit-2","events":[{"type":"Paid","data":{"n":2}}]}' \
       -H 'Idempotency-Key: 3f1c2b9a-6d4e-4f8a-9b1c-2d3e4f5a6b7c')
check "lost mid-COMMIT with Idempotency-Key: 200 (got $code), stored once ($(events_in commit-2))" \
  bash -c "test '$code' = 200 && test '$(events_in commit-2)' = 1 && ls '$TMP/ctl' | grep -q '^dropped'"
check "... es_get_command knows it" test "$(psqlx -d res -c "SELECT es_get_command('acme', '3f1c2b9a-6d4e-4f8a-9b1c-2d3e4f5a6b7c') IS NOT NULL")" = t

# ---- clean restart: no request fails on a stale pooled connection -------------
WARM=()
for _ in 1 2 3 4 5 6; do query >/dev/null & WARM+=($!); done
wait "${WARM[@]}"   # every pool slot warm
R0=$(curl -s "$B/metrics" | awk '/^es_gateway_db_retries_total/ { s += $2 } END { print s }')
runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w restart >/dev/null
bad=0
for _ in $(seq 1 12); do c=$(query); [ "$c" = 200 ] || bad=$((bad+1)); done
check "database restarted: 12 queries after it, none failed ($bad failed)" test "$bad" = 0
R1=$(curl -s "$B/metrics" | awk '/^es_gateway_db_retries_total/ { s += $2 } END { print s }')
check "... stale connections replaced at checkout, not retried ($R0 -> $R1 retries)" test "$R0" = "$R1"
check "... breakers stayed closed" test "$(metric 'circuit_breaker_state{service="query_handler"}')" = 0

# ---- kill -9 the postmaster: retries, breaker opens, fail fast, recovery -------
PIDS=$(pg_pids)
kill -9 "$(head -1 "$DIR/data/postmaster.pid")"
for _ in $(seq 1 100); do kill -0 $PIDS 2>/dev/null || break; sleep 0.1; done   # children follow
code=$(query)
check "postmaster killed: query 503 (got $code)" test "$code" = 503
check "... code unavailable" test "$(jq -r .error.code "$TMP/q.json")" = unavailable
check "... query_handler breaker open (circuit_breaker_state 2)" \
  test "$(metric 'circuit_breaker_state{service="query_handler"}')" = 2
T=$(date +%s%N); code=$(query); MS=$(ms_since "$T")
RA=$(awk 'tolower($1) == "retry-after:" { print $2 + 0 }' "$TMP/q.hdr")
check "... breaker open: fail fast 503 in ${MS} ms (< 200)" bash -c "test '$code' = 503 && test $MS -lt 200"
check "... Retry-After = seconds to the next probe (got $RA, open_seconds 2)" bash -c "test '$RA' -ge 1 && test '$RA' -le 2"
check "... details.reason circuit_open" test "$(jq -r .error.details.reason "$TMP/q.json")" = circuit_open
code=$(curl -s -o "$TMP/h.json" -w '%{http_code}' "$B/health")
check "... /health 503 degraded, database unreachable, query_handler open (got $code)" \
  bash -c "test '$code' = 503 && jq -e '.status == \"degraded\" and .database == \"unreachable\" and .circuit_breakers.query_handler == \"open\"' '$TMP/h.json' >/dev/null"
bad=0
for i in 1 2 3 4; do c=$(cmd "{\"type\":\"append\",\"stream\":\"down-$i\",\"events\":[{\"type\":\"X\",\"data\":{}}]}"); [ "$c" = 503 ] || bad=$((bad+1)); done
check "... commands 503 too ($bad not 503), event_store breaker open" \
  bash -c "test $bad = 0 && test \"\$(curl -s '$B/metrics' | awk 'index(\$0, \"circuit_breaker_state{service=\\\"event_store\\\"} \") == 1 { print \$2 }')\" = 2"
check "... transitions counted (closed -> open)" \
  bash -c "test \"\$(curl -s '$B/metrics' | awk 'index(\$0, \"es_gateway_circuit_breaker_transitions_total{service=\\\"query_handler\\\",from=\\\"closed\\\",to=\\\"open\\\"} \") == 1 { print \$2 }')\" -ge 1"
for _ in $(seq 1 100); do alive=0; for p in $PIDS; do kill -0 "$p" 2>/dev/null && alive=1; done; [ $alive = 0 ] && break; sleep 0.1; done
rm -f "$DIR/data/postmaster.pid" "$DIR/.s.PGSQL.$PORT.lock"
runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start >/dev/null
T=$(date +%s%N); code=000
while [ "$(ms_since "$T")" -lt 8000 ]; do code=$(query); [ "$code" = 200 ] && break; sleep 0.2; done
check "database back: query 200 without a gateway restart (got $code after $(ms_since "$T") ms)" test "$code" = 200
code=$(cmd '{"type":"append","stream":"acct-1","events":[{"type":"Again","data":{}}]}')
for _ in $(seq 1 20); do [ "$code" = 200 ] && break; sleep 0.2; code=$(cmd '{"type":"append","stream":"acct-1","events":[{"type":"Again","data":{}}]}'); done
check "... command 200 again (got $code)" test "$code" = 200
check "... down-* commands stored nothing" test "$(psqlx -d res -c "SELECT count(*) FROM es_read_log('acme', 0, 10000) e WHERE e.stream LIKE 'down-%'")" = 0
check "... /health ok, breakers closed" \
  bash -c "curl -s '$B/health' | jq -e '.status == \"ok\" and .circuit_breakers.event_store == \"closed\" and .circuit_breakers.query_handler == \"closed\"' >/dev/null"

# ---- SIGSTOP every server process: deadlines fire, statements are cancelled ----
query >/dev/null
PIDS=$(pg_pids)
kill -STOP $PIDS
T=$(date +%s%N); code=$(query); MS=$(ms_since "$T")
check "hung server: query 504/503 within its 4 s deadline (got $code after ${MS} ms)" \
  bash -c "{ test '$code' = 504 || test '$code' = 503; } && test $MS -lt 4800"
T=$(date +%s%N); code=$(cmd '{"type":"append","stream":"hung-1","events":[{"type":"X","data":{}}]}'); MS=$(ms_since "$T")
check "hung server: command 504/503 within its 6 s deadline (got $code after ${MS} ms)" \
  bash -c "{ test '$code' = 504 || test '$code' = 503; } && test $MS -lt 6800"
code=$(query)
check "hung server: a second query fails too (got $code)" bash -c "test '$code' = 504 || test '$code' = 503"
check "... query_handler breaker open after 2 timeouts" \
  test "$(metric 'circuit_breaker_state{service="query_handler"}')" = 2
T=$(date +%s%N); code=$(query); MS=$(ms_since "$T")
check "... then fail fast: 503 in ${MS} ms (< 200) while the server hangs" bash -c "test '$code' = 503 && test $MS -lt 200"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$B/health")
check "hung server: /health answers 503 (got $code)" test "$code" = 503
kill -CONT $PIDS
sleep 1.5
LEFT=$(psqlx -d res -c "SELECT count(*) FROM pg_stat_activity WHERE usename = 'gw' AND state = 'active'")
check "server resumed: no gateway statement left running ($LEFT)" test "$LEFT" = 0
T=$(date +%s%N); code=000
while [ "$(ms_since "$T")" -lt 8000 ]; do code=$(query); [ "$code" = 200 ] && break; sleep 0.2; done
check "... query 200 again (got $code)" test "$code" = 200
check "... hung-1 stored at most once ($(events_in hung-1))" bash -c "test '$(events_in hung-1)' -le 1"

# ---- refused connections (the proxy is gone) -------------------------------------
kill "$PXPID"; wait "$PXPID" 2>/dev/null; PXPID=
pkill -f "proxy.pl $PXPORT" 2>/dev/null
sleep 0.3
code=$(read_stream acct-1)
check "connection refused: read 503 (got $code)" test "$code" = 503
code=$(curl -s -o "$TMP/h.json" -w '%{http_code}' "$B/health")
check "... /health 503 degraded" bash -c "test '$code' = 503 && jq -e '.status == \"degraded\"' '$TMP/h.json' >/dev/null"
perl "$HERE/proxy.pl" "$PXPORT" "$PORT" "$TMP/ctl" &
PXPID=$!
T=$(date +%s%N); code=000
while [ "$(ms_since "$T")" -lt 8000 ]; do code=$(read_stream acct-1); [ "$code" = 200 ] && break; sleep 0.2; done
check "... proxy back: read 200 (got $code after $(ms_since "$T") ms)" test "$code" = 200

kill "$GWPID"; wait "$GWPID"; rc=$?; GWPID=
check "gateway exits 0 on SIGTERM (got $rc)" test "$rc" = 0
echo "1..$N"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]

#!/usr/bin/env bash
# Fallback cache of es-gateway (issue 8 item 4), real processes only:
#   - embedded LRU: answers cached while the database is up are served with
#     X-Cache-Status: stale and Age once its cluster is stopped; an uncached
#     request still gets 503; ETag / If-None-Match -> 304 (fresh and stale);
#     entries expire after ES_CACHE_TTL_SECONDS;
#   - tenant isolation: the same request by two tenants gets each its own
#     stale answer; a tenant that never asked gets 503, never another's;
#   - Redis 7 (a real redis-server) shared by two gateway replicas: what one
#     cached the other serves stale; redis killed mid-run: fresh reads still
#     200, only es_gateway_cache_errors_total moves.
# Needs es_saas installed (make install), redis-server, curl, jq, perl.
# Starts its own cluster (scripts/cluster.sh; it stops and restarts it) on
# ES_CACHE_PG_PORT (default: a free port) and its own redis; binds 127.0.0.1.
# --valgrind runs every gateway under valgrind (zero errors, no definite
# leaks, checked at their SIGTERM exit).
# Prints TAP and "N passed, N failed"; exit status != 0 on any failure.
set -u
WRAP=()
if [ "${1:-}" = --valgrind ]; then
  WRAP=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite)
fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
GW=$ROOT/gateway/es-gateway

# shellcheck source=../../lib/common.sh
. "$ROOT/test/lib/common.sh"

TMP=$(mktemp -d /tmp/es_gw_cache.XXXXXX)
chmod 755 "$TMP"
PGDIR=$TMP/pg
PGP=${ES_CACHE_PG_PORT:-$(free_port)}
PIDS=()
REDIS_PID=
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
  "$ROOT/scripts/cluster.sh" stop "$PGDIR" 2>/dev/null
  sleep 0.2
  if [ -n "${E2E_KEEP:-}" ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
bail() { nok "$*"; echo "$PASS passed, $FAIL failed"; exit 1; }

make -s -C "$ROOT/gateway" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; bail "build the gateway"; }
"$ROOT/scripts/cluster.sh" start "$PGDIR" "$PGP" >"$TMP/cluster.log" 2>&1 || { cat "$TMP/cluster.log" "$PGDIR/server.log"; bail "start a cluster"; }
db_stop()  { "$ROOT/scripts/cluster.sh" stop "$PGDIR"; }
db_start() { "$ROOT/scripts/cluster.sh" start "$PGDIR" "$PGP"; }

PW=$(openssl rand -hex 12)
psql -qX -h "$PGDIR" -p "$PGP" -U postgres -d postgres -v ON_ERROR_STOP=1 >"$TMP/db.log" 2>&1 <<SQL || { cat "$TMP/db.log"; bail "create database"; }
CREATE DATABASE es_cache;
\c es_cache
CREATE EXTENSION es_saas;
CREATE ROLE es_cache_gw LOGIN PASSWORD '$PW' IN ROLE es_gateway;
SELECT es_create_tenant('alpha');
SELECT es_create_tenant('beta');
SELECT es_create_tenant('gamma');
SQL
ok "cluster, database, extension, gateway role, tenants alpha/beta/gamma"

export ES_JWT_SECRET=$(openssl rand -hex 32)
export ES_DATABASE_URL="host=$PGDIR port=$PGP dbname=es_cache user=es_cache_gw password=$PW connect_timeout=2"
export ES_POOL_WAIT_MS=1000 ES_LOG_LEVEL=warn
# breakers that reopen to a probe within a second and short retries, so the
# suite sees the database come back without waiting out the contract's 30 s
fast_breakers() { # [stale_query_cache]
  cat <<YAML
circuit_breakers:
  event_store: {failure_threshold: 5, open_seconds: 1, half_open_probes: 1}
  query_handler: {failure_threshold: 3, open_seconds: 1, half_open_probes: 1}
retries:
  database: {max_retries: 1, initial_backoff_ms: 100, multiplier: 2}
fallbacks:
  stale_query_cache: ${1:-true}
YAML
}
fast_breakers >"$TMP/fast.yaml"
fast_breakers false >"$TMP/fast_no_cache.yaml"
export ES_RESILIENCE_CONFIG=$TMP/fast.yaml
TA=$("$GW" token --tenant alpha); TB=$("$GW" token --tenant beta); TC=$("$GW" token --tenant gamma)

# start_gw NAME [VAR=VALUE...] -> sets URL_<NAME>
start_gw() {
  local name=$1 port; shift
  port=$(free_port)
  env "$@" ES_LISTEN=127.0.0.1:$port "${WRAP[@]}" "$GW" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  eval "URL_$name=http://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$port/health/live" && return 0
    sleep 0.05
  done
  cat "$TMP/$name.err"; return 1
}
# get URL TOKEN [extra curl args] -> $TMP/h (headers) $TMP/b (body); prints the status
get() {
  local url=$1 tok=$2; shift 2
  rm -f "$TMP/h" "$TMP/b"
  curl -s -m 10 -D "$TMP/h" -o "$TMP/b" -w '%{http_code}' -H "Authorization: Bearer $tok" "$@" "$url"
}
query() { # url token json
  get "$1/api/v1/queries/execute" "$2" -X POST -H 'Content-Type: application/json' -d "$3"
}
hdr() { grep -i "^$1:" "$TMP/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
metric() { # url name backend
  curl -s "$1/metrics" | awk -v n="$2{backend=\"$3\"}" '$1 == n {print $2}'
}
append() { # url token stream type
  get "$1/api/v1/commands/execute" "$2" -X POST -H 'Content-Type: application/json' \
    -d "{\"type\":\"append\",\"stream\":\"$3\",\"events\":[{\"type\":\"$4\",\"data\":{\"by\":\"$4\"}}]}"
}

# ---- embedded LRU ---------------------------------------------------------
start_gw E ES_CACHE_TTL_SECONDS=300 || bail "start gateway E (embedded cache)"
start_gw T ES_CACHE_TTL_SECONDS=1 || bail "start gateway T (embedded cache, ttl 1 s)"
start_gw O ES_RESILIENCE_CONFIG="$TMP/fast_no_cache.yaml" || bail "start gateway O (stale_query_cache: false)"

s=$(append "$URL_E" "$TA" s1 AlphaNoted); check "alpha appends to s1 (got $s: $(cat "$TMP/b"))" test "$s" = 200
s=$(append "$URL_E" "$TB" s1 BetaNoted); check "beta appends to its own s1 (got $s)" test "$s" = 200
s=$(append "$URL_E" "$TC" s1 GammaNoted); check "gamma appends to its own s1 (got $s)" test "$s" = 200

s=$(get "$URL_E/api/v1/streams/s1" "$TA"); cp "$TMP/b" "$TMP/a_stream"; ETAG_S=$(hdr ETag)
check "fresh stream read: 200, ETag \"v1\", no X-Cache-Status (got $s, $ETAG_S)" \
  bash -c "test '$s' = 200 && test '$ETAG_S' = '\"v1\"' && ! grep -qi '^X-Cache-Status' '$TMP/h'"
s=$(get "$URL_E/api/v1/streams/s1" "$TA" -H "If-None-Match: $ETAG_S")
check "If-None-Match with the stream's ETag: 304, empty body (got $s)" bash -c "test '$s' = 304 && test ! -s '$TMP/b'"
s=$(get "$URL_E/api/v1/streams/s1" "$TA" -H 'If-None-Match: "v0", W/"v1"')
check "If-None-Match list with a weak match: 304 (got $s)" test "$s" = 304
s=$(get "$URL_E/api/v1/streams/s1" "$TA" -H 'If-None-Match: "v7"')
check "If-None-Match not matching: 200 with the body (got $s)" bash -c "test '$s' = 200 && cmp -s '$TMP/b' '$TMP/a_stream'"
s=$(get "$URL_E/api/v1/events?after=0" "$TA"); cp "$TMP/b" "$TMP/a_events"; ETAG_E=$(hdr ETag)
check "fresh log read: 200 with an ETag (got $s, $ETAG_E)" bash -c "test '$s' = 200 && test -n '$ETAG_E'"
s=$(query "$URL_E" "$TA" '{"type": "stream", "stream": "s1"}'); cp "$TMP/b" "$TMP/a_query"
check "fresh query: 200 (got $s)" test "$s" = 200
s=$(get "$URL_E/api/v1/streams/s1" "$TB"); cp "$TMP/b" "$TMP/b_stream"
check "beta reads its own s1 (got $s): not alpha's answer" \
  bash -c "test '$s' = 200 && grep -q BetaNoted '$TMP/b_stream' && ! grep -q AlphaNoted '$TMP/b_stream'"
s=$(get "$URL_T/api/v1/streams/s1" "$TA"); check "gateway T caches s1 (got $s)" test "$s" = 200
s=$(get "$URL_O/api/v1/streams/s1" "$TA"); check "gateway O reads s1 (got $s) with an ETag" bash -c "test '$s' = 200 && grep -qi '^ETag: \"v1\"' '$TMP/h'"
check "stores counted (es_gateway_cache_stores_total >= 5)" \
  test "$(metric "$URL_E" es_gateway_cache_stores_total embedded)" -ge 5

db_stop
s=$(get "$URL_E/api/v1/streams/s1" "$TA")
check "database down: cached stream read 200, X-Cache-Status: stale, Age, ETag, same body (got $s)" \
  bash -c "test '$s' = 200 && test \"\$(grep -i '^X-Cache-Status:' '$TMP/h' | tr -d '\r')\" = 'X-Cache-Status: stale' && grep -qi '^Age: [0-9]' '$TMP/h' && grep -qi '^ETag: \"v1\"' '$TMP/h' && cmp -s '$TMP/b' '$TMP/a_stream'"
s=$(get "$URL_E/api/v1/streams/s1" "$TA" -H "If-None-Match: $ETAG_S")
check "database down: If-None-Match on a stale answer -> 304 stale (got $s)" \
  bash -c "test '$s' = 304 && grep -qi '^X-Cache-Status: stale' '$TMP/h'"
s=$(get "$URL_E/api/v1/events?after=0" "$TA")
check "database down: cached log read served stale (got $s)" \
  bash -c "test '$s' = 200 && grep -qi '^X-Cache-Status: stale' '$TMP/h' && cmp -s '$TMP/b' '$TMP/a_events'"
s=$(query "$URL_E" "$TA" '{"stream":"s1",   "type":"stream"}')
check "database down: the same query (other key order, spacing) served stale (got $s)" \
  bash -c "test '$s' = 200 && grep -qi '^X-Cache-Status: stale' '$TMP/h' && cmp -s '$TMP/b' '$TMP/a_query'"
s=$(get "$URL_E/api/v1/streams/s1" "$TB")
check "tenant isolation: beta's stale s1 is beta's own answer (got $s)" \
  bash -c "test '$s' = 200 && grep -qi '^X-Cache-Status: stale' '$TMP/h' && cmp -s '$TMP/b' '$TMP/b_stream'"
s=$(get "$URL_E/api/v1/streams/s1" "$TC")
check "tenant isolation: gamma never read s1 -> 503, no other tenant's answer (got $s)" \
  bash -c "test '$s' = 503 && ! grep -q Noted '$TMP/b' && ! grep -qi '^X-Cache-Status' '$TMP/h'"
s=$(get "$URL_E/api/v1/events?after=0" "$TB")
check "tenant isolation: beta's uncached log read -> 503 (got $s)" test "$s" = 503
s=$(get "$URL_E/api/v1/streams/s1?limit=1" "$TA")
check "an uncached request (other query string) -> 503 (got $s)" test "$s" = 503
s=$(get "$URL_O/api/v1/streams/s1" "$TA")
check "stale_query_cache: false -> 503, nothing served stale (got $s)" test "$s" = 503
sleep 1.2
s=$(get "$URL_T/api/v1/streams/s1" "$TA")
check "ES_CACHE_TTL_SECONDS=1: the entry expired -> 503 (got $s)" test "$s" = 503
s=$(append "$URL_E" "$TA" s1 Again)
check "commands are never served from the cache (got $s)" test "$s" = 503
check "metrics: stale serves counted (embedded >= 5)" \
  test "$(metric "$URL_E" es_gateway_cache_stale_serves_total embedded)" -ge 5
check "metrics: misses counted (embedded >= 3)" \
  test "$(metric "$URL_E" es_gateway_cache_misses_total embedded)" -ge 3
check "metrics: hits counted (embedded >= 5)" \
  test "$(metric "$URL_E" es_gateway_cache_hits_total embedded)" -ge 5
check "metrics: embedded cache bytes gauge > 0" \
  test "$(metric "$URL_E" es_gateway_cache_bytes embedded)" -gt 0
# the failed reads above opened the query breaker: it fails fast, and the
# fast failure is served stale too
qb=$(curl -s "$URL_E/metrics" | awk '$1 == "circuit_breaker_state{service=\"query_handler\"}" {print $2}')
s=$(get "$URL_E/api/v1/streams/s1" "$TA")
check "query breaker open (state $qb): cached read still served stale (got $s)" \
  bash -c "test '$qb' -ge 1 && test '$s' = 200 && grep -qi '^X-Cache-Status: stale' '$TMP/h'"
db_start || bail "restart the cluster"
for _ in $(seq 1 50); do  # until the breaker's probe has gone through
  s=$(get "$URL_E/api/v1/streams/s1" "$TA")
  [ "$s" = 200 ] && ! grep -qi '^X-Cache-Status' "$TMP/h" && break; sleep 0.1
done
check "database back: fresh answer again, no X-Cache-Status (got $s)" \
  bash -c "test '$s' = 200 && ! grep -qi '^X-Cache-Status' '$TMP/h'"

# ---- Redis shared by two replicas -----------------------------------------
RP=$(free_port)
redis-server --bind 127.0.0.1 --port "$RP" --save '' --appendonly no --daemonize no \
  --dir "$TMP" >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 1 100); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.05; done
check "redis-server started ($(redis-server --version | cut -d' ' -f3))" bash -c "redis-cli -p $RP ping | grep -q PONG"
start_gw R1 ES_REDIS_URL=redis://127.0.0.1:$RP/0 ES_POOL_SIZE=2 || bail "start replica R1 (redis)"
start_gw R2 ES_REDIS_URL=redis://127.0.0.1:$RP/0 || bail "start replica R2 (redis)"
s=$(append "$URL_R1" "$TA" s2 ViaRedis); check "alpha appends to s2 through R1 (got $s)" test "$s" = 200
s=$(get "$URL_R1/api/v1/streams/s2" "$TA"); cp "$TMP/b" "$TMP/r_stream"
check "R1 reads s2 (got $s)" test "$s" = 200
s=$(query "$URL_R1" "$TA" '{"type": "stream", "stream": "s2"}'); cp "$TMP/b" "$TMP/r_query"
check "R1 runs a query (got $s)" test "$s" = 200
check "the entries are in redis with a TTL" \
  bash -c "test \"\$(redis-cli -p $RP --scan --pattern 'es_gateway:cache:v1:*' | wc -l)\" -ge 2 && test \"\$(redis-cli -p $RP ttl \$(redis-cli -p $RP --scan --pattern 'es_gateway:cache:v1:*' | head -1))\" -gt 0"
db_stop
s=$(get "$URL_R2/api/v1/streams/s2" "$TA")
check "database down: R2 serves R1's cached stream read stale (got $s)" \
  bash -c "test '$s' = 200 && grep -qi '^X-Cache-Status: stale' '$TMP/h' && grep -qi '^Age: ' '$TMP/h' && cmp -s '$TMP/b' '$TMP/r_stream'"
s=$(query "$URL_R2" "$TA" '{"type": "stream", "stream": "s2"}')
check "database down: R2 serves R1's cached query stale (got $s)" \
  bash -c "test '$s' = 200 && grep -qi '^X-Cache-Status: stale' '$TMP/h' && cmp -s '$TMP/b' '$TMP/r_query'"
s=$(get "$URL_R2/api/v1/streams/s2" "$TB")
check "redis, tenant isolation: beta gets 503 for the same request (got $s)" \
  bash -c "test '$s' = 503 && ! grep -q ViaRedis '$TMP/b'"
check "metrics: R2 stale serves by backend redis >= 2" \
  test "$(metric "$URL_R2" es_gateway_cache_stale_serves_total redis)" -ge 2
db_start || bail "restart the cluster"
# the pooled connections died with the server: let /health pings replace
# them (a stale pooled connection is the resilience suite's concern)
for _ in 1 2 3 4; do curl -s -o /dev/null "$URL_R1/health"; done
E0=$(metric "$URL_R1" es_gateway_cache_errors_total redis)
check "no redis errors so far (got $E0)" test "$E0" = 0
# a hung redis (SIGSTOP): each cache call gives up after ES_REDIS_TIMEOUT_MS
# (100 ms), then redis is skipped for 1 s: no read waits much longer
kill -STOP "$REDIS_PID"
slow=0; bad=0; t0=$(date +%s%N)
for i in $(seq 1 15); do
  t1=$(date +%s%N)
  s=$(get "$URL_R1/api/v1/streams/s2" "$TA"); [ "$s" = 200 ] || bad=$((bad+1))
  [ $(( ($(date +%s%N) - t1) / 1000000 )) -lt 600 ] || slow=$((slow+1))
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -CONT "$REDIS_PID"
check "redis hung (SIGSTOP): 15 reads 200, none over 600 ms ($bad failed, $slow slow, ${ms} ms in all)" \
  bash -c "test $bad -eq 0 && test $slow -eq 0"
E0=$(metric "$URL_R1" es_gateway_cache_errors_total redis)
check "redis hung: counted in es_gateway_cache_errors_total (got $E0)" test "${E0:-0}" -gt 0
sleep 1.1
kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; REDIS_PID=
t0=$(date +%s%N); bad=0
for i in $(seq 1 20); do
  s=$(get "$URL_R1/api/v1/streams/s2" "$TA"); [ "$s" = 200 ] || { bad=$((bad+1)); echo "# read $i: $s $(cat "$TMP/b")"; }
  s=$(query "$URL_R1" "$TA" '{"type": "stream", "stream": "s2"}'); [ "$s" = 200 ] || { bad=$((bad+1)); echo "# query $i: $s $(cat "$TMP/b")"; }
  s=$(append "$URL_R1" "$TA" s3 AfterRedis); [ "$s" = 200 ] || { bad=$((bad+1)); echo "# append $i: $s $(cat "$TMP/b")"; }
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "redis killed: 60 reads, queries and commands all answered as before ($bad failed, ${ms} ms)" \
  bash -c "test $bad -eq 0 && test $ms -lt 10000"
E1=$(metric "$URL_R1" es_gateway_cache_errors_total redis)
check "redis killed: only es_gateway_cache_errors_total moved ($E0 -> $E1)" test "${E1:-0}" -gt "$E0"
s=$(curl -s -o /dev/null -w '%{http_code}' "$URL_R1/health")
check "redis killed: /health still 200 (got $s)" test "$s" = 200
db_stop
s=$(get "$URL_R1/api/v1/streams/s2" "$TA")
check "redis and database down: the database's 503 goes out unchanged (got $s)" \
  bash -c "test '$s' = 503 && grep -q '\"unavailable\"' '$TMP/b'"
db_start || bail "restart the cluster"

# ---- OpenAPI -------------------------------------------------------------------
curl -s "$URL_E/api/v1/openapi.json" >"$TMP/openapi.json"
jqe() { jq -e "$@" >/dev/null; }
check "OpenAPI: 304 and If-None-Match documented on the three cacheable reads" \
  jqe '[.paths["/api/v1/streams/{stream}"].get, .paths["/api/v1/events"].get, .paths["/api/v1/queries/execute"].post]
         | all(.responses["304"] != null and (.responses["304"].content == null)
               and ([.parameters[]? | select(.name == "If-None-Match" and .in == "header")] | length == 1))' "$TMP/openapi.json"
check "OpenAPI: no 304 on commands" jqe '.paths["/api/v1/commands/execute"].post.responses["304"] == null' "$TMP/openapi.json"

# ---- configuration -----------------------------------------------------------
ES_REDIS_URL=http://nope "$GW" >/dev/null 2>"$TMP/badurl.err" & p=$!
wait $p; rc=$?
check "a malformed ES_REDIS_URL: exit 2 with a message (got $rc)" \
  bash -c "test $rc -eq 2 && grep -q ES_REDIS_URL '$TMP/badurl.err'"
check "--print-config masks ES_REDIS_URL" \
  bash -c "ES_REDIS_URL=redis://:secret@127.0.0.1:1 '$GW' --print-config | grep ES_REDIS_URL | grep -vq secret"

# every gateway stops cleanly on SIGTERM (under --valgrind: no errors, no leaks)
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
bad=0
for p in "${PIDS[@]}"; do wait "$p" || bad=$((bad+1)); done
PIDS=()
check "every gateway exits 0 on SIGTERM${WRAP:+ under valgrind} ($bad did not)" test "$bad" -eq 0

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

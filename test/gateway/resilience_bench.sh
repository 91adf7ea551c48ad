#!/usr/bin/env bash
# Resilience benchmarks of es-gateway (make bench), on a private cluster:
#   1. happy path, every resilience feature on (breakers, retries, the
#      fallback cache) vs off (cache off, breakers that open only after 1,000 failures in a row, no
#      retries): single-event appends and cached stream reads, alternated
#      runs, medians, ratio (target >= 0.95)
#   2. fail-fast answers while the query breaker is open: wrk latency
#      percentiles (target p99 < 5 ms)
#   3. database back -> breaker closed: time from the restart to the first
#      fresh answer and to circuit_breaker_state 0 (target <= open period
#      + one probe)
# Env: RUNS (5), DURATION (4), CONNS (8).  Binds 127.0.0.1 only.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd); GW=$ROOT/gateway/es-gateway
RUNS=${RUNS:-5}; DURATION=${DURATION:-4}; CONNS=${CONNS:-8}
PGP=${ES_RBENCH_PORT:-55446}; TMP=$(mktemp -d /tmp/es_res_bench.XXXXXX); chmod 755 "$TMP"
PGDIR=$TMP/pg; PIDS=()
cleanup() { set +e; for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; sleep 0.3
  "$ROOT/scripts/cluster.sh" stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=../lib/common.sh
. "$ROOT/test/lib/common.sh"
ms() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v; exit }' "$2"; }
now_ms() { date +%s%3N; }

make -s -C "$ROOT/gateway" >/dev/null
"$ROOT/scripts/cluster.sh" start "$PGDIR" "$PGP" preload >/dev/null
export PGHOST=$PGDIR PGPORT=$PGP PGUSER=postgres
PW=$(openssl rand -hex 16); SECRET=$(openssl rand -hex 24)
psql -qX -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
CREATE DATABASE rb;
\c rb
CREATE EXTENSION es_saas;
CREATE ROLE rb_gw LOGIN PASSWORD '$PW' IN ROLE es_gateway;
SELECT es_create_tenant('bench');
SELECT es_append('bench', 'hot-1', NULL, '[{"type":"Seed","data":{"n":1}}]');
SQL
cat >"$TMP/on.yaml" <<YAML
circuit_breakers:
  event_store: {failure_threshold: 5, open_seconds: 2, half_open_probes: 1}
  query_handler: {failure_threshold: 3, open_seconds: 2, half_open_probes: 1}
YAML
cat >"$TMP/off.yaml" <<YAML
circuit_breakers:
  event_store: {failure_threshold: 1000, open_seconds: 1, half_open_probes: 1}
  query_handler: {failure_threshold: 1000, open_seconds: 1, half_open_probes: 1}
retries:
  database: {max_retries: 0, initial_backoff_ms: 1, multiplier: 1}
fallbacks:
  stale_query_cache: false
YAML
start_gw() { # name yaml extra-env...
  local name=$1 yaml=$2 port; shift 2; port=$(free_port)
  env ES_JWT_SECRET=$SECRET ES_DATABASE_URL="host=$PGDIR port=$PGP dbname=rb user=rb_gw password=$PW connect_timeout=2" \
    ES_LISTEN=127.0.0.1:$port ES_POOL_SIZE=$CONNS ES_THREADS=$((CONNS + 24)) ES_LOG_LEVEL=error \
    ES_RESILIENCE_CONFIG=$yaml "$@" "$GW" >/dev/null 2>"$TMP/$name.err" &
  PIDS+=($!); eval "URL_$name=http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/health/live" && return 0; sleep 0.05; done
  cat "$TMP/$name.err"; return 1
}
start_gw ON "$TMP/on.yaml"
start_gw OFF "$TMP/off.yaml" ES_CACHE_TTL_SECONDS=0
TOKEN=$(ES_JWT_SECRET=$SECRET "$GW" token --tenant bench --ttl 2h)
cat >"$TMP/append.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/api/v1/commands/execute", nil,
    string.format('{"type":"append","stream":"w-%d-%d","events":[{"type":"Bench","data":{"k":%d}}]}', math.random(1, 1000000000), n, n))
end
LUA
cat >"$TMP/read.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
request = function() return wrk.format("GET", "/api/v1/streams/hot-1") end
LUA

echo "# es-gateway resilience benchmarks: $RUNS alternated runs x ${DURATION}s, $CONNS connections, $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"
for kind in append read; do
  : >"$TMP/on.$kind"; : >"$TMP/off.$kind"; : >"$TMP/ratio.$kind"
  for i in $(seq 1 "$RUNS"); do
    wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$TMP/$kind.lua" "$URL_OFF" >"$TMP/w" 2>&1
    off=$(awk '/^Requests\/sec/ {print $2}' "$TMP/w")
    wrk -t2 -c"$CONNS" -d"${DURATION}s" -s "$TMP/$kind.lua" "$URL_ON" >"$TMP/w" 2>&1
    on=$(awk '/^Requests\/sec/ {print $2}' "$TMP/w")
    echo "$off" >>"$TMP/off.$kind"; echo "$on" >>"$TMP/on.$kind"
    awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f\n", a / b}' >>"$TMP/ratio.$kind"
  done
  on=$(median <"$TMP/on.$kind"); off=$(median <"$TMP/off.$kind"); r=$(median <"$TMP/ratio.$kind")
  res=$(awk -v r="$r" 'BEGIN {print (r >= 0.95) ? "pass" : "FAIL"}')
  echo "1. happy path, $kind: all on $on req/s, all off $off req/s (baseline), median of per-pair ratios $r (target >= 0.95: $res)"
done

# 2. open the query breaker: stop the server, fail reads until it opens
"$ROOT/scripts/cluster.sh" stop "$PGDIR" >/dev/null
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL_OFF/api/v1/events?limit=7" ; done
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$URL_ON/api/v1/events?limit=7" ; done
state=$(curl -s "$URL_ON/metrics" | awk '$1 == "circuit_breaker_state{service=\"query_handler\"}" {print $2}')
cat >"$TMP/ff.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $TOKEN"
request = function() return wrk.format("GET", "/api/v1/events?limit=7") end
LUA
wrk --latency -t2 -c"$CONNS" -d1s -s "$TMP/ff.lua" "$URL_ON" >"$TMP/ff" 2>&1
p50=$(ms 50% "$TMP/ff"); p99=$(ms 99% "$TMP/ff"); rps=$(awk '/^Requests\/sec/ {print $2}' "$TMP/ff")
res=$(awk -v p="$p99" 'BEGIN {print (p < 5) ? "pass" : "FAIL"}')
echo "2. fail fast while the query breaker is open (state $state, uncached read, 1 s of wrk): $rps req/s, p50 ${p50} ms, p99 ${p99} ms (target p99 < 5 ms: $res)"

# 3. database back -> first fresh answer -> breaker closed
"$ROOT/scripts/cluster.sh" start "$PGDIR" "$PGP" preload >/dev/null
t0=$(now_ms); fresh=""; closed=""
for _ in $(seq 1 400); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL_ON/api/v1/events?limit=7")
  [ -z "$fresh" ] && [ "$code" = 200 ] && fresh=$(( $(now_ms) - t0 ))
  st=$(curl -s "$URL_ON/metrics" | awk '$1 == "circuit_breaker_state{service=\"query_handler\"}" {print $2}')
  [ "$st" = 0 ] && { closed=$(( $(now_ms) - t0 )); break; }
  sleep 0.025
done
res=$(awk -v c="${closed:-99999}" 'BEGIN {print (c <= 2000 + 1000) ? "pass" : "FAIL"}')
echo "3. database back (server accepting) -> first 200 after ${fresh:-?} ms, breaker closed after ${closed:-never} ms (open period 2000 ms; target <= open period + one probe: $res)"

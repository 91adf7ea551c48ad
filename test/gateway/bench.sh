#!/usr/bin/env bash
# Gateway overhead benchmark (bounded in time, ~1 min with defaults).
#   A: single-event append commands through es-gateway (wrk, POST /api/v1/commands/execute)
#   B: the same appends by pgbench straight into SQL (es_append, same role)
#   C: a bare civetweb handler (gateway/bench/bare.c): the HTTP ceiling
#   D: memory soak: A for SOAK seconds, the gateway's RSS sampled every 10 s
# Each is run RUNS times for DURATION seconds with CONNS connections; prints
# medians (throughput, p50 and p99 latency) and the ratios A/B and A/C.  Needs PGHOST/PGPORT/PGUSER (superuser)
# and es_saas installed, like run_e2e.sh.  Binds 127.0.0.1 only.
# Env: RUNS (3), DURATION (5), CONNS (16), THREADS (2), SOAK (300; 0 skips D).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../.." && pwd); GWDIR=$ROOT/gateway
: "${PGHOST:?set PGHOST}" "${PGPORT:=5432}" "${PGUSER:=postgres}"; export PGHOST PGPORT PGUSER
RUNS=${RUNS:-3}; DURATION=${DURATION:-5}; CONNS=${CONNS:-16}; THREADS=${THREADS:-2}; SOAK=${SOAK:-300}
TMP=$(mktemp -d /tmp/es_gw_bench.XXXXXX); DB=es_gw_bench_$$; ROLE=es_gw_bench_$$; PW=$(openssl rand -hex 16)
SECRET=$(openssl rand -hex 24); PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done; sleep 0.3
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  psql -qX -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT
# shellcheck source=../lib/common.sh
. "$ROOT/test/lib/common.sh"

make -s -C "$GWDIR" all bench >/dev/null
psql -qX -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
CREATE DATABASE $DB;
\c $DB
CREATE EXTENSION es_saas;
CREATE ROLE $ROLE LOGIN PASSWORD '$PW' IN ROLE es_gateway;
SELECT es_create_tenant('bench');
SQL
P1=$(free_port); P2=$(free_port)
ES_JWT_SECRET=$SECRET ES_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE password=$PW" \
  ES_LISTEN=127.0.0.1:$P1 ES_POOL_SIZE=$CONNS ES_THREADS=$((CONNS + 8)) ES_LOG_LEVEL=warn \
  ES_RESILIENCE_CONFIG=$GWDIR/config/resilience.yaml "$GWDIR/es-gateway" >/dev/null 2>"$TMP/gw.err" &
PIDS+=($!); GWPID=$!
"$GWDIR/bench/bare" "127.0.0.1:$P2" $((CONNS + 8)) & PIDS+=($!)
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$P1/health/live" && break; sleep 0.1; done

TOKEN=$(perl -MDigest::SHA=hmac_sha256 -MMIME::Base64=encode_base64url -e '
  my $h = encode_base64url(q({"alg":"HS256","typ":"JWT"})); my $p = encode_base64url(q({"tenant_id":"bench","exp":) . (time + 3600) . "}");
  print "$h.$p." . encode_base64url(hmac_sha256("$h.$p", $ARGV[0]))' "$SECRET")
cat >"$TMP/append.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"type":"append","stream":"w-%d-%d","events":[{"type":"Bench","data":{"k":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}]}', math.random(1, 1000000000), n, n)
  return wrk.format(nil, "/api/v1/commands/execute", nil, body)
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("NON2XX %d\n", bad))
end
LUA
cat >"$TMP/append.sql" <<'SQL'
SELECT * FROM es_append('bench', 'p-' || (random() * 1e12)::bigint::text, NULL,
  '[{"type":"Bench","data":{"k":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}]'::jsonb);
SQL

echo "# $RUNS runs x ${DURATION}s, $CONNS connections, $(nproc) cores"
for i in $(seq 1 "$RUNS"); do
  wrk --latency -t"$THREADS" -c"$CONNS" -d"${DURATION}s" -s "$TMP/append.lua" "http://127.0.0.1:$P1" >"$TMP/gw.$i" 2>&1
  gw=$(awk '/^Requests\/sec/ {print $2}' "$TMP/gw.$i"); bad=$(awk '/^NON2XX/ {print $2}' "$TMP/gw.$i")
  PGPASSWORD=$PW pgbench -n -h "$PGHOST" -p "$PGPORT" -U "$ROLE" -c "$CONNS" -j "$THREADS" -T "$DURATION" \
    -f "$TMP/append.sql" "$DB" >"$TMP/pgb.$i" 2>&1
  pg=$(awk '/^tps = / {print $3; exit}' "$TMP/pgb.$i")
  wrk --latency -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "http://127.0.0.1:$P2/" >"$TMP/bare.$i" 2>&1
  bare=$(awk '/^Requests\/sec/ {print $2}' "$TMP/bare.$i")
  echo "run $i: gateway ${gw:-?} req/s (non-2xx ${bad:-?}), pgbench ${pg:-?} tps, bare civetweb ${bare:-?} req/s"
  echo "${gw:-0}" >>"$TMP/gw.all"; echo "${pg:-0}" >>"$TMP/pg.all"; echo "${bare:-0}" >>"$TMP/bare.all"
  # wrk --latency: "50%  1.23ms"; normalise to milliseconds
  ms() { awk -v p="$1" '$1 == p { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v; exit }' "$2"; }
  ms 50% "$TMP/gw.$i" >>"$TMP/gwp50.all"; ms 99% "$TMP/gw.$i" >>"$TMP/gwp99.all"
  ms 50% "$TMP/bare.$i" >>"$TMP/barep50.all"; ms 99% "$TMP/bare.$i" >>"$TMP/barep99.all"
  awk '/latency average/ {print $4; exit}' "$TMP/pgb.$i" >>"$TMP/pgavg.all"
done
GW=$(median <"$TMP/gw.all"); PG=$(median <"$TMP/pg.all"); BARE=$(median <"$TMP/bare.all")
echo "median: gateway $GW req/s, pgbench $PG tps, bare $BARE req/s"
echo "median latency: gateway p50 $(median <"$TMP/gwp50.all") ms p99 $(median <"$TMP/gwp99.all") ms;" \
  "pgbench average $(median <"$TMP/pgavg.all") ms; bare civetweb p50 $(median <"$TMP/barep50.all") ms p99 $(median <"$TMP/barep99.all") ms"
awk -v g="$GW" -v p="$PG" -v b="$BARE" 'BEGIN {
  printf "ratio gateway/pgbench (same appends, SQL direct) = %.2f\n", (p > 0 ? g / p : 0);
  printf "ratio gateway/bare civetweb (HTTP ceiling)       = %.3f\n", (b > 0 ? g / b : 0) }'

# D: memory soak, bounded by SOAK seconds
if [ "$SOAK" -gt 0 ]; then
  rss() { awk '/^VmRSS/ {print $2}' "/proc/$GWPID/status"; }
  wrk -t"$THREADS" -c"$CONNS" -d"${SOAK}s" -s "$TMP/append.lua" "http://127.0.0.1:$P1" >"$TMP/soak" 2>&1 &
  WRKPID=$!
  : >"$TMP/rss"
  while kill -0 $WRKPID 2>/dev/null; do rss >>"$TMP/rss"; sleep 10; done
  wait $WRKPID || true
  awk -v secs="$SOAK" '{ v[NR] = $1 } END {
    if (NR < 4) { print "soak: too few samples"; exit }
    # warm-up: compare the first full minute with the last one
    k = (NR >= 12) ? 6 : int(NR / 2); a = 0; b = 0
    for (i = 1; i <= k; i++) a += v[i]; for (i = NR - k + 1; i <= NR; i++) b += v[i]
    a /= k; b /= k; max = 0; for (i = 1; i <= NR; i++) if (v[i] > max) max = v[i]
    printf "soak %ds: gateway RSS first %.1f MiB, last %.1f MiB (%+.1f%%), max %.1f MiB, %d samples\n",
      secs, a / 1024, b / 1024, (b - a) * 100 / a, max / 1024, NR }' "$TMP/rss"
  echo "soak requests: $(awk '/requests in/ {print $1; exit}' "$TMP/soak"), non-2xx $(awk '/^NON2XX/ {print $2}' "$TMP/soak")"
fi

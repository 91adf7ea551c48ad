#!/usr/bin/env bash
# Command spool over real HTTP against a real cluster it starts and stops
# itself (as root: scripts/cluster.sh runs the server as postgres).
#
#   200 commands (10 streams) sent while the database is down: each is
#   answered 202 + Location (a client retries with the same Idempotency-Key
#   when its connection breaks); the gateway is killed with -9 in the middle
#   and restarted; the database comes back: every acknowledged command is
#   applied exactly once (events counted by command id), in order per
#   stream, and GET /commands/{id} agrees (202 pending before, 200 after).
#   Also: Prefer: wait gets 503, a full spool gets 503, a command the
#   database refuses on replay is reported with its error.
#
# Usage: bash test/gateway/spool/run.sh   (ES_SPOOL_TEST_PORT overrides the
# cluster port, else a free one).  TAP output; exit status != 0 on failure.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
GWDIR=$ROOT/gateway
# shellcheck source=../../lib/common.sh
. "$ROOT/test/lib/common.sh"

TMP=$(mktemp -d /tmp/es_gw_spool.XXXXXX)
chmod 755 "$TMP"
PGPORT=${ES_SPOOL_TEST_PORT:-$(free_port)}
CL=$TMP/cluster
GWPIDS=()
cleanup() {
  for p in "${GWPIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  bash "$ROOT/scripts/cluster.sh" stop "$CL" >/dev/null 2>&1
  if [ -n "${SPOOL_KEEP:-}" ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

make -s -C "$GWDIR" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; echo "0 passed, 1 failed"; exit 1; }
GWBIN=$GWDIR/es-gateway

bash "$ROOT/scripts/cluster.sh" start "$CL" "$PGPORT" || { echo "not ok 1 - cluster start"; exit 1; }
PSQL=(psql -qXAt -h 127.0.0.1 -p "$PGPORT" -U postgres)
ROLEPW=$(openssl rand -hex 16)
"${PSQL[@]}" -v ON_ERROR_STOP=1 -d postgres >"$TMP/db.log" 2>&1 <<SQL
CREATE DATABASE spool;
\c spool
CREATE EXTENSION es_saas;
CREATE ROLE spool_gw LOGIN PASSWORD '$ROLEPW' IN ROLE es_gateway;
SQL
check "database with es_saas and a gateway role" test $? -eq 0

SECRET=$(openssl rand -hex 24)
export ES_JWT_SECRET=$SECRET
export ES_RESILIENCE_CONFIG=$GWDIR/config/resilience.yaml
DBURL="host=127.0.0.1 port=$PGPORT dbname=spool user=spool_gw password=$ROLEPW connect_timeout=2"
ADMIN=$("$GWBIN" token --admin)
TENANT=$("$GWBIN" token --tenant acme)
GWPORT=$(free_port)
URL=http://127.0.0.1:$GWPORT

start_gw() { # spool-dir port extra-env...
  local dir=$1 port=$2; shift 2
  env ES_DATABASE_URL="$DBURL" ES_LISTEN="127.0.0.1:$port" ES_SPOOL_DIR="$dir" \
      ES_POOL_SIZE=4 ES_POOL_WAIT_MS=2000 "$@" "$GWBIN" >>"$TMP/gw.out" 2>>"$TMP/gw.err" &
  GWPID=$!
  GWPIDS+=("$GWPID")
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/health/live" && return 0
    sleep 0.1
  done
  return 1
}
metric() { # port name
  curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m {print $2}'
}
post() { # url id body extra-curl-args... -> prints the status
  local url=$1 id=$2 body=$3; shift 3
  curl -s -o "$TMP/last.json" -D "$TMP/last.head" -w '%{http_code}' -m 10 -X POST "$url/api/v1/commands/execute" \
       -H "Authorization: Bearer $TENANT" -H 'Content-Type: application/json' \
       -H "Idempotency-Key: $id" "$@" -d "$body"
}

start_gw "$TMP/spool" "$GWPORT"
check "gateway with ES_SPOOL_DIR starts" test $? -eq 0
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/api/v1/tenants" -H "Authorization: Bearer $ADMIN" \
            -H 'Content-Type: application/json' -d '{"id":"acme","name":"Acme"}')
check "tenant created (201)" test "$code" = 201
ID0=$(cat /proc/sys/kernel/random/uuid)
code=$(post "$URL" "$ID0" '{"type":"append","stream":"s-0","events":[{"type":"Noted","data":{"n":0}}]}')
check "command with the database up: 200, applied at once" test "$code" = 200
check "spool empty while the database is up" test "$(metric "$GWPORT" es_gateway_spool_depth)" = 0

# ---- outage ------------------------------------------------------------------
bash "$ROOT/scripts/cluster.sh" stop "$CL"
ID_WAIT=$(cat /proc/sys/kernel/random/uuid)
code=$(post "$URL" "$ID_WAIT" '{"type":"append","stream":"w","events":[{"type":"Noted","data":{}}]}' -H 'Prefer: wait')
check "Prefer: wait during the outage: 503, not spooled" test "$code" = 503

# 10 clients, one per stream, 20 commands each, sent in order; a client whose
# connection breaks (gateway killed) retries the same command with the same key
: >"$TMP/acked"
client() { # stream-index
  local s=$1 i id code tries
  for i in $(seq 1 20); do
    id=$(cat /proc/sys/kernel/random/uuid)
    for tries in $(seq 1 100); do
      code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 -X POST "$URL/api/v1/commands/execute" \
             -H "Authorization: Bearer $TENANT" -H 'Content-Type: application/json' -H "Idempotency-Key: $id" \
             -d "{\"type\":\"append\",\"stream\":\"st-$s\",\"events\":[{\"type\":\"Noted\",\"data\":{\"n\":$i,\"cmd\":\"$id\"}}]}")
      [ "$code" = 202 ] && break
      sleep 0.2
    done
    echo "$s $i $id $code" >>"$TMP/acked"
  done
}
for s in $(seq 1 10); do client "$s" & done
CLIENTS=$(jobs -p)
# kill -9 the gateway once about half the commands are acknowledged
for _ in $(seq 1 300); do
  [ "$(wc -l <"$TMP/acked")" -ge 100 ] && break
  sleep 0.05
done
kill -9 "$GWPID"
wait "$GWPID" 2>/dev/null
echo "# gateway killed -9 after $(wc -l <"$TMP/acked") acknowledged commands"
start_gw "$TMP/spool" "$GWPORT"
check "gateway restarted on the same spool after kill -9" test $? -eq 0
for p in $CLIENTS; do wait "$p"; done
check "200 commands sent, every one acknowledged 202" \
  test "$(awk '$4 == 202' "$TMP/acked" | wc -l)" = 200
depth=$(metric "$GWPORT" es_gateway_spool_depth)
check "spool depth is 200 while the database is down (got $depth)" test "$depth" = 200
check "spool bytes reported" test "$(metric "$GWPORT" es_gateway_spool_bytes)" -gt 0
read -r _ _ SAMPLE _ < <(sed -n 37p "$TMP/acked")
code=$(curl -s -o "$TMP/pending.json" -D "$TMP/pending.head" -w '%{http_code}' "$URL/api/v1/commands/$SAMPLE" \
            -H "Authorization: Bearer $TENANT")
check "GET /commands/{id} while spooled: 202 pending" \
  bash -c "[ $code = 202 ] && jq -e '.status == \"pending\" and .id == \"$SAMPLE\"' '$TMP/pending.json' >/dev/null"
code=$(post "$URL" "$SAMPLE" '{"type":"append","stream":"st-1","events":[{"type":"Noted","data":{}}]}')
check "the same Idempotency-Key again while spooled: 202, not spooled twice" \
  bash -c "[ $code = 202 ] && [ \$(curl -s $URL/metrics | awk '\$1 == \"es_gateway_spool_depth\" {print \$2}') = 200 ]"
check "202 carries Location: /api/v1/commands/{id}" \
  grep -qi "^Location: /api/v1/commands/$SAMPLE" "$TMP/last.head"
OTHER=$("$GWBIN" token --tenant other)
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/v1/commands/$SAMPLE" -H "Authorization: Bearer $OTHER")
check "another tenant does not see the spooled command (not 202)" test "$code" != 202

# a command the database will refuse (unknown type: ES422) is reported on GET
ID_BAD=$(cat /proc/sys/kernel/random/uuid)
code=$(post "$URL" "$ID_BAD" '{"type":"no_such_command","stream":"bad"}')
check "a command of an unknown type is spooled too (202)" test "$code" = 202

# a second gateway with a spool of 2 commands: the third gets 503
MAINPID=$GWPID
GW2PORT=$(free_port)
start_gw "$TMP/spool2" "$GW2PORT" ES_SPOOL_MAX_COMMANDS=2
for k in 1 2 3; do
  code=$(post "http://127.0.0.1:$GW2PORT" "$(cat /proc/sys/kernel/random/uuid)" \
              "{\"type\":\"append\",\"stream\":\"full-$k\",\"events\":[{\"type\":\"Noted\",\"data\":{}}]}")
  echo "$code" >>"$TMP/full.codes"
done
check "spool bound ES_SPOOL_MAX_COMMANDS=2: 202, 202, then 503" \
  test "$(tr '\n' ' ' <"$TMP/full.codes")" = "202 202 503 "
kill -9 "$GWPID"; wait "$GWPID" 2>/dev/null
GWPID=$MAINPID

# ---- database back -----------------------------------------------------------
bash "$ROOT/scripts/cluster.sh" start "$CL" "$PGPORT"
t0=$(date +%s)
for _ in $(seq 1 600); do
  [ "$(metric "$GWPORT" es_gateway_spool_depth)" = 0 ] && break
  sleep 0.1
done
echo "# spool drained in $(( $(date +%s) - t0 )) s"
check "spool drained once the database is back" test "$(metric "$GWPORT" es_gateway_spool_depth)" = 0
check "es_gateway_spool_replayed_total 200" test "$(metric "$GWPORT" es_gateway_spool_replayed_total)" = 200
check "es_gateway_spool_failed_total 1 (the unknown command type)" \
  test "$(metric "$GWPORT" es_gateway_spool_failed_total)" = 1

# every acknowledged command exactly once, in order per stream
for s in $(seq 1 10); do
  curl -s "$URL/api/v1/streams/st-$s?limit=1000" -H "Authorization: Bearer $TENANT" >"$TMP/st-$s.json"
done
cat "$TMP"/st-*.json | jq -r '.events[].data.cmd' | sort >"$TMP/applied"
awk '{print $3}' "$TMP/acked" | sort >"$TMP/acked.ids"
check "every acknowledged command applied exactly once (200 events, 200 distinct ids)" \
  bash -c "[ \$(wc -l <'$TMP/applied') = 200 ] && diff -q '$TMP/applied' '$TMP/acked.ids' >/dev/null"
inorder=1
for s in $(seq 1 10); do
  [ "$(jq -c '[.events[].data.n]' "$TMP/st-$s.json")" = "$(seq -s, 1 20 | sed 's/^/[/; s/$/]/')" ] || inorder=0
done
check "in order per stream (n = 1..20 in version order on each of the 10 streams)" test "$inorder" = 1
allok=1
while read -r s i id _; do
  c=$(curl -s -o "$TMP/fate.json" -w '%{http_code}' "$URL/api/v1/commands/$id" -H "Authorization: Bearer $TENANT")
  if [ "$c" != 200 ] || ! jq -e --arg id "$id" '.status == "executed" and .id == $id' "$TMP/fate.json" >/dev/null; then
    allok=0; echo "# $id: $c $(cat "$TMP/fate.json")"
  fi
done <"$TMP/acked"
check "GET /commands/{id}: 200 executed for all 200" test "$allok" = 1
code=$(curl -s -o "$TMP/bad.json" -w '%{http_code}' "$URL/api/v1/commands/$ID_BAD" -H "Authorization: Bearer $TENANT")
check "GET /commands/{id} of the refused command: its error (422)" \
  bash -c "[ $code = 422 ] && jq -e '.error.code' '$TMP/bad.json' >/dev/null"
code=$(post "$URL" "$(cat /proc/sys/kernel/random/uuid)" '{"type":"append","stream":"st-1","events":[{"type":"Noted","data":{"n":21}}]}')
check "after the drain a command is applied at once again (200)" test "$code" = 200
check "no spool file left" test -z "$(ls "$TMP/spool" | grep '\.cmd$')"

# restart once more: the replayed commands are not replayed again
kill -9 "$GWPID"; wait "$GWPID" 2>/dev/null
start_gw "$TMP/spool" "$GWPORT"
sleep 1
curl -s "$URL/api/v1/streams/st-1?limit=1000" -H "Authorization: Bearer $TENANT" >"$TMP/st-1b.json"
check "a restart after the drain applies nothing again (st-1 has 21 events)" \
  test "$(jq '.events | length' "$TMP/st-1b.json")" = 21
check "the restarted gateway finds an empty spool" test "$(metric "$GWPORT" es_gateway_spool_depth)" = 0

# ---- slow clients ------------------------------------------------------------
# 40 clients announce a 100000-byte body and send one byte every 2 s: 20 with
# a valid token (cut with 408 at the 3 s body deadline), 20 without (401,
# then the connection is closed at once instead of draining the body).
# Throughout, /health answers within 1 s and normal clients are served.
kill -9 "$GWPID"; wait "$GWPID" 2>/dev/null
start_gw "$TMP/spool" "$GWPORT" ES_BODY_DEADLINE_MS=3000
SLOW=$HERE/slow_client.pl
: >"$TMP/slow.out"
SLOWPIDS=()
for k in $(seq 1 20); do
  perl "$SLOW" "$GWPORT" "$TENANT" 15 >>"$TMP/slow.out" & SLOWPIDS+=($!)
  perl "$SLOW" "$GWPORT" "" 15 >>"$TMP/slow.out" & SLOWPIDS+=($!)
done
sleep 0.3
: >"$TMP/health.times"; : >"$TMP/normal.codes"
end=$(( $(date +%s) + 7 ))
k=0
while [ "$(date +%s)" -lt "$end" ]; do
  curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' "$URL/health" >>"$TMP/health.times"
  k=$((k+1))
  post "$URL" "$(cat /proc/sys/kernel/random/uuid)" \
       "{\"type\":\"append\",\"stream\":\"normal\",\"events\":[{\"type\":\"Noted\",\"data\":{\"k\":$k}}]}" >>"$TMP/normal.codes"
  echo >>"$TMP/normal.codes"
  curl -s -o /dev/null -m 5 -w '%{http_code}\n' "$URL/api/v1/streams/normal" -H "Authorization: Bearer $TENANT" >>"$TMP/normal.codes"
  sleep 0.2
done
wait "${SLOWPIDS[@]}"
echo "# /health during the slow clients: $(wc -l <"$TMP/health.times") calls, slowest $(sort -k2 -n "$TMP/health.times" | tail -1 | cut -d' ' -f2) s"
check "/health answered 200 within 1 s throughout (>= 20 calls)" \
  bash -c "[ \$(wc -l <'$TMP/health.times') -ge 20 ] && awk '\$1 != 200 || \$2 >= 1.0 {bad=1} END {exit bad}' '$TMP/health.times'"
check "normal clients served throughout (every command 200, every read 200)" \
  bash -c "[ \$(wc -l <'$TMP/normal.codes') -ge 20 ] && ! grep -qv '^200\$' '$TMP/normal.codes'"
check "20 slow clients with a token: 408 and closed at the 3 s deadline (before 5 s)" \
  test "$(awk '$1 == 408 && $2 == 1 && $3 >= 2.9 && $4 < 5' "$TMP/slow.out" | wc -l)" = 20
check "20 slow clients without a token: 401 and closed within 1 s" \
  test "$(awk '$1 == 401 && $2 == 1 && $4 < 1' "$TMP/slow.out" | wc -l)" = 20
check "es_gateway_request_timeouts_total 20" test "$(metric "$GWPORT" es_gateway_request_timeouts_total)" = 20

# the reserve and the per-client cap: 8 workers, 4 kept for /health and
# /metrics: 6 slow clients at once -> 4 read their body, 2 get 503 at once
kill -9 "$GWPID"; wait "$GWPID" 2>/dev/null
start_gw "$TMP/spool" "$GWPORT" ES_BODY_DEADLINE_MS=3000 ES_THREADS=8 ES_RESERVE_THREADS=4 ES_SSE_MAX_CLIENTS=2
: >"$TMP/slow2.out"
SLOWPIDS=()
for k in $(seq 1 6); do perl "$SLOW" "$GWPORT" "$TENANT" 6 >>"$TMP/slow2.out" & SLOWPIDS+=($!); done
sleep 0.5
code=$(curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}' "$URL/health")
check "8 workers, 6 slow bodies: /health still answers 200 within 1 s ($code)" \
  bash -c "set -- $code; [ \$1 = 200 ] && awk -v t=\$2 'BEGIN {exit !(t < 1.0)}'"
code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$URL/metrics")
check "... and /metrics 200" test "$code" = 200
wait "${SLOWPIDS[@]}"
check "... 4 slow bodies read until the deadline (408), 2 refused at once (503)" \
  bash -c "[ \$(awk '\$1 == 408' '$TMP/slow2.out' | wc -l) = 4 ] && [ \$(awk '\$1 == 503 && \$3 < 1' '$TMP/slow2.out' | wc -l) = 2 ]"
kill -9 "$GWPID"; wait "$GWPID" 2>/dev/null
start_gw "$TMP/spool" "$GWPORT" ES_BODY_DEADLINE_MS=3000 ES_MAX_CLIENT_BODY_READERS=2
: >"$TMP/slow3.out"
SLOWPIDS=()
for k in $(seq 1 3); do perl "$SLOW" "$GWPORT" "$TENANT" 5 >>"$TMP/slow3.out" & SLOWPIDS+=($!); done
wait "${SLOWPIDS[@]}"
check "ES_MAX_CLIENT_BODY_READERS=2: a third slow body from one address gets 429 at once" \
  bash -c "[ \$(awk '\$1 == 408' '$TMP/slow3.out' | wc -l) = 2 ] && [ \$(awk '\$1 == 429 && \$3 < 1' '$TMP/slow3.out' | wc -l) = 1 ]"

# a chunked body that stops short is cut at the deadline too
exec 7<>/dev/tcp/127.0.0.1/"$GWPORT"
printf 'POST /api/v1/commands/execute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{"type":' "$TENANT" >&7
t0=$(date +%s%N)
ans=$(timeout 10 head -c 12 <&7)
t1=$(date +%s%N)
exec 7>&-
check "truncated chunked body: 408 at the deadline ($(( (t1 - t0) / 1000000 )) ms)" \
  bash -c "[ '$ans' = 'HTTP/1.1 408' ] && [ $(( (t1 - t0) / 1000000 )) -lt 4500 ]"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

#!/usr/bin/env bash
# End-to-end suite for es-gateway over real HTTP against a real es_saas.
#
# Needs: a running PostgreSQL reachable via PGHOST/PGPORT with PGUSER a
# superuser, es_saas installed in that server's extension directory,
# curl, jq, perl (HTTP::Tiny, JSON::PP, Digest::SHA: core), openssl,
# node + npm (the pinned ajv of test/gateway/client validates every recorded
# answer against /api/v1/openapi.json), promtool (Debian package
# prometheus) and valgrind.
#
# Usage: test/gateway/run_e2e.sh [--valgrind | --asan]
#   --valgrind  run the gateway under valgrind --leak-check=full --error-exitcode=1
#   --asan      run the -fsanitize=address,undefined build
# ES_E2E_ONLY=<part of a name> runs only the matching t/*.pl files (e.g.
# ES_E2E_ONLY=030_commands); the checks of this script itself always run.
# Prints TAP, then a final line "N passed, N failed"; exit status != 0 on any failure.
# Binds only 127.0.0.1.  Creates and drops its own database and role.
set -u
MODE=plain
case "${1:-}" in
  --valgrind) MODE=valgrind ;;
  --asan) MODE=asan ;;
  "") ;;
  *) echo "usage: $0 [--valgrind|--asan]" >&2; exit 2 ;;
esac

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
GWDIR=$ROOT/gateway
: "${PGHOST:?set PGHOST}" "${PGPORT:=5432}" "${PGUSER:=postgres}"
export PGHOST PGPORT PGUSER

# shellcheck source=../lib/common.sh
. "$ROOT/test/lib/common.sh"

TMP=$(mktemp -d /tmp/es_gw_e2e.XXXXXX)
DB=es_gw_e2e_$$
ROLE=es_gw_e2e_$$
ROLEPW=$(openssl rand -hex 16)
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  sleep 0.2
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  psql -qX -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
  if [ -n "${E2E_KEEP:-}" ]; then echo "# kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

# ---- build --------------------------------------------------------------
echo "# building gateway ($MODE)"
if [ "$MODE" = asan ]; then
  make -s -C "$GWDIR" asan >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; echo "0 passed, 1 failed"; exit 1; }
  GWBIN=$GWDIR/es-gateway-asan
else
  make -s -C "$GWDIR" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; echo "0 passed, 1 failed"; exit 1; }
  GWBIN=$GWDIR/es-gateway
fi

# ---- database -----------------------------------------------------------
echo "# database $DB on $PGHOST:$PGPORT"
if ! psql -qX -v ON_ERROR_STOP=1 -d postgres >"$TMP/db.log" 2>&1 <<SQL
CREATE DATABASE $DB;
\c $DB
CREATE EXTENSION es_saas;
CREATE ROLE $ROLE LOGIN PASSWORD '$ROLEPW' IN ROLE es_gateway;
SQL
then
  cat "$TMP/db.log"; nok "create database, CREATE EXTENSION es_saas, gateway role"; echo "$PASS passed, $FAIL failed"; exit 1
fi
ok "database created with CREATE EXTENSION es_saas and a login role in es_gateway"
check "gateway role is neither superuser nor BYPASSRLS" \
  test "$(psql -qXAt -d $DB -c "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = '$ROLE'")" = f

# ---- keys ---------------------------------------------------------------
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/rsa.pem" 2>/dev/null
openssl pkey -in "$TMP/rsa.pem" -pubout -out "$TMP/rsa.pub" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TMP/ec.pem" 2>/dev/null
openssl pkey -in "$TMP/ec.pem" -pubout -out "$TMP/ec.pub" 2>/dev/null
SECRET=$(openssl rand -hex 24)   # 48 bytes

DBURL="host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE password=$ROLEPW"
export ES_RESILIENCE_CONFIG=$GWDIR/config/resilience.yaml

# ---- startup refusals (plain binary, fast) --------------------------------
PLAINBIN=$GWDIR/es-gateway
[ -x "$PLAINBIN" ] || make -s -C "$GWDIR" >/dev/null 2>&1
ES_JWT_SECRET=short-secret ES_DATABASE_URL="$DBURL" ES_LISTEN=127.0.0.1:1 "$PLAINBIN" >/dev/null 2>"$TMP/short.err"
check "ES_JWT_SECRET under 32 bytes: exit code 2" test $? -eq 2
ES_DATABASE_URL="$DBURL" ES_LISTEN=127.0.0.1:1 env -u ES_JWT_SECRET -u ES_JWT_PUBLIC_KEY_FILE "$PLAINBIN" >/dev/null 2>&1
check "no JWT key configured: exit code 2" test $? -eq 2
ES_JWT_SECRET=$SECRET ES_POOL_SIZE=zero "$PLAINBIN" >/dev/null 2>&1
check "invalid ES_POOL_SIZE: exit code 2" test $? -eq 2
ES_JWT_SECRET=$SECRET ES_RESILIENCE_CONFIG=/nonexistent.yaml "$PLAINBIN" >/dev/null 2>&1
check "missing explicit ES_RESILIENCE_CONFIG: exit code 2" test $? -eq 2
ES_JWT_SECRET=$SECRET ES_DATABASE_URL="$DBURL" "$PLAINBIN" --print-config >"$TMP/cfg.txt" 2>&1
check "--print-config exits 0" test $? -eq 0
check "--print-config masks the JWT secret and the database password" \
  bash -c "! grep -q -e '$SECRET' -e '$ROLEPW' '$TMP/cfg.txt' && grep -q '^ES_JWT_SECRET=<set' '$TMP/cfg.txt'"
check "--print-config shows resilience defaults" grep -q '^resilience.circuit_breakers.event_store.failure_threshold=5$' "$TMP/cfg.txt"
check "--print-config shows the token lifetime rules" bash -c "grep -qx 'ES_JWT_REQUIRE_EXP=true' '$TMP/cfg.txt' && grep -qx 'ES_JWT_MAX_TTL_SECONDS=0' '$TMP/cfg.txt'"

# ---- start gateways ----------------------------------------------------------
run_gw() { # name port extra-env...
  local name=$1 port=$2; shift 2
  local cmd=("$GWBIN")
  # shellcheck disable=SC2054  # the commas belong to valgrind options
  case "$MODE" in
    valgrind) cmd=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
                   --show-leak-kinds=definite,indirect --log-file="$TMP/$name.valgrind" "$GWBIN") ;;
    asan) export ASAN_OPTIONS=detect_leaks=1:exitcode=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ;;
  esac
  env ES_DATABASE_URL="$DBURL" ES_LISTEN="127.0.0.1:$port" ES_POOL_SIZE=4 ES_THREADS=24 \
      ES_SSE_HEARTBEAT_SECONDS=1 "$@" "${cmd[@]}" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  LASTPID=$!
}
wait_ready() { # port
  for _ in $(seq 1 150); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/health/live" && return 0
    sleep 0.1
  done
  return 1
}

PORT1=$(free_port); PORT2=$(free_port)
TA=e2e-a-$$; TB=e2e-b-$$
# gw1: breakers reopen for probes after 1 s and retries start at 100 ms, so the
# outage section below recovers within its 5 s window (defaults: 30/60 s, 1 s)
cat >"$TMP/resilience-gw1.yaml" <<YAML
circuit_breakers:
  event_store:
    open_seconds: 1
  query_handler:
    open_seconds: 1
retries:
  database:
    initial_backoff_ms: 100
YAML
run_gw gw1 "$PORT1" ES_JWT_SECRET="$SECRET" ES_JWT_PUBLIC_KEY_FILE="$TMP/rsa.pub" \
       ES_JWT_AUDIENCE=es-api ES_JWT_ISSUER=https://idp.test ES_MAX_BODY_BYTES=1048576 ES_JWT_MAX_TTL_SECONDS=7200 \
       ES_RESILIENCE_CONFIG="$TMP/resilience-gw1.yaml"
PID1=$LASTPID; PIDS+=("$PID1")
cat >"$TMP/resilience-gw2.yaml" <<YAML
timeouts:
  database_statement_ms: 1000
YAML
run_gw gw2 "$PORT2" ES_JWT_PUBLIC_KEY_FILE="$TMP/ec.pub" ES_REQUEST_TIMEOUT_MS=1500 ES_SSE_MAX_CLIENTS=1 \
       ES_SSE_HEARTBEAT_SECONDS=30 \
       ES_RESILIENCE_CONFIG="$TMP/resilience-gw2.yaml"
PID2=$LASTPID; PIDS+=("$PID2")
check "gateway (HS256 + RS256) is up on 127.0.0.1:$PORT1" wait_ready "$PORT1"
check "gateway (ES256 only) is up on 127.0.0.1:$PORT2" wait_ready "$PORT2"
check "gateway listens on 127.0.0.1 only" \
  bash -c "! (ss -ltnp 2>/dev/null | grep -E ':($PORT1|$PORT2)\b' | grep -v '127.0.0.1' | grep -q .)"

# every answer of the suite is recorded and checked against the document
export ES_E2E_RECORD=$TMP/responses.jsonl
: >"$ES_E2E_RECORD"
curl -sf "http://127.0.0.1:$PORT1/api/v1/openapi.json" -o "$TMP/openapi.json"
rec() { # METHOD PATH STATUS BODYFILE [CONTENT-TYPE]: a curl answer of this script
  jq -cn --arg m "$1" --arg p "$2" --argjson s "$3" --arg c "${5:-application/json}" --rawfile b "$4" \
    '{method: $m, path: $p, status: $s, content_type: $c, body: $b}' >>"$ES_E2E_RECORD" 2>/dev/null
}

# ---- the HTTP suite: t/*.pl, one file per area, each standing alone ------------
# (shared helpers in t/lib/E2E.pm); every file's TAP is renumbered into ours
for SUITE in "$HERE"/t/*${ES_E2E_ONLY:-}*.pl; do
  name=$(basename "$SUITE" .pl)
  echo "# $name"
  ES_E2E_URL=http://127.0.0.1:$PORT1 ES_E2E_URL_EC=http://127.0.0.1:$PORT2 \
  ES_E2E_TA=$TA ES_E2E_TB=$TB ES_E2E_TOKEN_EC_FILE=$TMP/suite.token_ec \
  ES_E2E_SECRET=$SECRET ES_E2E_TOKEN_FILE=$TMP/suite.token ES_E2E_RSA=$TMP/rsa.pem ES_E2E_EC=$TMP/ec.pem ES_E2E_RSA_PUB=$TMP/rsa.pub \
  ES_E2E_SLOW=$([ "$MODE" = plain ] && echo 1 || echo 5) \
    perl "$SUITE" >"$TMP/$name.tap" 2>"$TMP/$name.err"
  SUITE_RC=$?
  while IFS= read -r line; do
    case "$line" in
      "ok "*) ok "$name: ${line#* - }" ;;
      "not ok "*) nok "$name: ${line#* - }" ;;
      "#"*) echo "$line" ;;
    esac
  done <"$TMP/$name.tap"
  check "$name ran to completion (exit $SUITE_RC)" grep -q '^1\.\.' "$TMP/$name.tap"
  [ -s "$TMP/$name.err" ] && sed "s/^/# $name stderr: /" "$TMP/$name.err" | head -20
done

# ---- suspended tenant: writes 423, reads still 200 ------------------------------
# tenant A with its order-1 (030_commands.pl writes them; here when it did not run)
psql -qX -d $DB -c "SELECT es_create_tenant('$TA') WHERE NOT EXISTS (SELECT FROM es_list_tenants() t WHERE t ->> 'id' = '$TA')" \
  -c "SELECT es_append('$TA', 'order-1', 0, '[{\"type\":\"Created\",\"data\":{}}]') WHERE es_stream_version('$TA', 'order-1') = 0" >/dev/null
B1=http://127.0.0.1:$PORT1
TOKA=$(cat "$TMP/suite.token" 2>/dev/null)
psql -qX -d $DB -c "SELECT es_suspend_tenant('$TA')" >/dev/null
code=$(curl -s -o "$TMP/susp.json" -w '%{http_code}' -H "Authorization: Bearer $TOKA" -H 'Content-Type: application/json' \
       -d '{"type":"append","stream":"order-9","events":[{"type":"X","data":{}}]}' "$B1/api/v1/commands/execute")
rec POST /api/v1/commands/execute "$code" "$TMP/susp.json"
check "suspended tenant: command 423 (got $code)" test "$code" = 423
check "... code tenant_suspended" test "$(jq -r .error.code "$TMP/susp.json" 2>/dev/null)" = tenant_suspended
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKA" "$B1/api/v1/streams/order-1")
check "suspended tenant: reads still 200 (got $code)" test "$code" = 200
psql -qX -d $DB -c "SELECT es_resume_tenant('$TA')" >/dev/null
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKA" -H 'Content-Type: application/json' \
       -d '{"type":"append","stream":"order-9","events":[{"type":"X","data":{}}]}' "$B1/api/v1/commands/execute")
check "resumed tenant: command 200 (got $code)" test "$code" = 200

# ---- statement timeout -> 504 (gw2 has database_statement_ms: 1000 from its YAML) ----
TOKEC=$(cat "$TMP/suite.token_ec" 2>/dev/null)
if [ "$(psql -qXAt -d $DB -c "SELECT to_regclass('es_saas.events') IS NOT NULL")" = t ]; then
  psql -qX -d $DB -c "BEGIN; LOCK TABLE es_saas.events IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;" >/dev/null 2>&1 &
  LOCKPID=$!
  sleep 0.5
  START=$(date +%s%N)
  code=$(curl -s -o "$TMP/timeout.json" -w '%{http_code}' --max-time 20 -H "Authorization: Bearer $TOKEC" "http://127.0.0.1:$PORT2/api/v1/events")
  MS=$(( ($(date +%s%N) - START) / 1000000 ))
  rec GET /api/v1/events "$code" "$TMP/timeout.json"
  check "statement_timeout from resilience.yaml: 504 (got $code after ${MS} ms)" test "$code" = 504
  check "... code timeout" test "$(jq -r .error.code "$TMP/timeout.json" 2>/dev/null)" = timeout
  wait "$LOCKPID"
else
  echo "# SKIP 504 test: es_saas.events not found"
fi

# ---- Expect: 100-continue -----------------------------------------------------
# civetweb 1.15 never answers Expect in a request handler: the gateway sends
# "100 Continue" once auth and Content-Length pass, else its final answer
# without reading the body.  curl waits --expect100-timeout for the 100: a
# 10 s wait shows a missing answer even under valgrind.
EXPLIM=$([ "$MODE" = plain ] && echo 1000 || echo 8000)
{ printf '{'; head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' '
  printf '"type":"append","stream":"expect-1","events":[{"type":"X","data":{}}]}'; } >"$TMP/big2m.json"
expect_post() { # url token file -> "code ms continue?"
  local start code ms
  start=$(date +%s%N)
  code=$(curl -s -o /dev/null -D "$TMP/exp.hdr" -w '%{http_code}' --max-time 30 --expect100-timeout 10 \
    -H 'Expect: 100-continue' -H "Authorization: Bearer $2" -H 'Content-Type: application/json' \
    --data-binary @"$3" "$1/api/v1/commands/execute")
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$code $ms $(grep -c '^HTTP/1.1 100' "$TMP/exp.hdr")"
}
read -r code ms cont <<<"$(expect_post "http://127.0.0.1:$PORT2" "$TOKEC" "$TMP/big2m.json")"
check "Expect: 100-continue, 2 MiB body: 200 after 100 Continue (got $code, $cont x 100) in ${ms} ms < ${EXPLIM} ms" \
  bash -c "test '$code' = 200 && test '$cont' = 1 && test '$ms' -lt $EXPLIM"
read -r code ms cont <<<"$(expect_post "$B1" "not.a.token" "$TMP/big2m.json")"
check "Expect: 100-continue with a bad token: 401 without 100 Continue (got $code, $cont x 100) in ${ms} ms" \
  bash -c "test '$code' = 401 && test '$cont' = 0 && test '$ms' -lt $EXPLIM"
read -r code ms cont <<<"$(expect_post "$B1" "$TOKA" "$TMP/big2m.json")"
check "Expect: 100-continue over ES_MAX_BODY_BYTES: 413 without 100 Continue (got $code, $cont x 100) in ${ms} ms" \
  bash -c "test '$code' = 413 && test '$cont' = 0 && test '$ms' -lt $EXPLIM"

# ---- tokens: exp required, maximum lifetime, es-gateway token ---------------------
# gw1 runs with ES_JWT_MAX_TTL_SECONDS=7200 and the default ES_JWT_REQUIRE_EXP=true
mint() { ES_JWT_SECRET=$SECRET ES_JWT_AUDIENCE=es-api ES_JWT_ISSUER=https://idp.test ES_JWT_MAX_TTL_SECONDS=7200 \
         "$PLAINBIN" token "$@" 2>"$TMP/mint.err"; }
get_events() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$B1/api/v1/events"; }
MINTED=$(mint --tenant "$TA" --ttl 1h)
check "es-gateway token --tenant --ttl 1h prints a JWT" bash -c "[[ '$MINTED' =~ ^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]"
code=$(get_events "$MINTED")
check "a minted token is accepted by the running gateway (got $code)" test "$code" = 200
PAYLOAD=$(echo "$MINTED" | cut -d. -f2 | tr '_-' '/+'); while [ $(( ${#PAYLOAD} % 4 )) -ne 0 ]; do PAYLOAD="$PAYLOAD="; done
PAYLOAD=$(echo "$PAYLOAD" | base64 -d 2>/dev/null)
check "... its claims: tenant_id, aud, iss, exp = iat + 3600" \
  bash -c "echo '$PAYLOAD' | jq -e '.tenant_id == \"$TA\" and .aud == \"es-api\" and .iss == \"https://idp.test\" and .exp - .iat == 3600 and (.roles == null)' >/dev/null"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(mint --admin)" -H 'Content-Type: application/json' \
       -d "{\"id\":\"minted-$$\"}" "$B1/api/v1/tenants")
check "a minted --admin token creates a tenant (got $code)" test "$code" = 201
mint --tenant "$TA" --ttl 3h >/dev/null
check "es-gateway token refuses a ttl over ES_JWT_MAX_TTL_SECONDS (exit $?)" grep -q ES_JWT_MAX_TTL_SECONDS "$TMP/mint.err"
ES_JWT_SECRET= "$PLAINBIN" token --tenant "$TA" >/dev/null 2>"$TMP/mint.err"
check "es-gateway token without ES_JWT_SECRET: exit 2 (got $?)" bash -c "test $? -eq 2 && grep -q ES_JWT_SECRET '$TMP/mint.err'"
check "es-gateway token without --tenant or --admin: exit 2" bash -c "ES_JWT_SECRET='$SECRET' '$PLAINBIN' token >/dev/null 2>&1; test \$? -eq 2"
LONG=$(ES_JWT_SECRET=$SECRET ES_JWT_AUDIENCE=es-api ES_JWT_ISSUER=https://idp.test "$PLAINBIN" token --tenant "$TA" --ttl 3h)
code=$(get_events "$LONG")
check "gateway refuses a token living longer than ES_JWT_MAX_TTL_SECONDS (got $code)" test "$code" = 401

# ---- database outage: broken pool connections are detected and replaced ------
psql -qX -d postgres -c "ALTER ROLE $ROLE NOLOGIN" \
     -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '$ROLE'" >/dev/null
sleep 0.3
# a page never read before: an answer read earlier would be served stale
# from the fallback cache (test/gateway/cache)
code=$(curl -s -o "$TMP/down.json" -D "$TMP/down.hdr" -w '%{http_code}' -H "Authorization: Bearer $TOKA" "$B1/api/v1/events?limit=99991")
rec GET /api/v1/events "$code" "$TMP/down.json"
check "database unreachable: data route 503 (got $code)" test "$code" = 503
check "... error code unavailable" test "$(jq -r .error.code "$TMP/down.json" 2>/dev/null)" = unavailable
check "... with Retry-After" grep -qi '^Retry-After: ' "$TMP/down.hdr"
code=$(curl -s -o "$TMP/health.json" -w '%{http_code}' "$B1/health")
rec GET /health "$code" "$TMP/health.json"
check "database unreachable: /health 503 degraded (got $code)" \
  bash -c "test '$code' = 503 && test \"\$(jq -r .status '$TMP/health.json')\" = degraded"
code=$(curl -s -o "$TMP/ready.json" -w '%{http_code}' "$B1/health/ready")
rec GET /health/ready "$code" "$TMP/ready.json"
check "database unreachable: /health/ready 503 (got $code)" test "$code" = 503
code=$(curl -s -o /dev/null -w '%{http_code}' "$B1/health/live")
check "database unreachable: /health/live still 200 (got $code)" test "$code" = 200
psql -qX -d postgres -c "ALTER ROLE $ROLE LOGIN" >/dev/null
code=000
# a fresh answer, not one the fallback cache serves while the breaker is still open
for _ in $(seq 1 50); do
  code=$(curl -s -D "$TMP/back.h" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKA" "$B1/api/v1/events")
  [ "$code" = 200 ] && ! grep -qi '^X-Cache-Status: stale' "$TMP/back.h" && break; sleep 0.1
done
check "database back: data route 200 again, fresh (got $code)" \
  bash -c "test '$code' = 200 && ! grep -qi '^X-Cache-Status: stale' '$TMP/back.h'"
code=$(curl -s -o "$TMP/health.json" -w '%{http_code}' "$B1/health")
check "database back: /health 200 ok (got $code)" test "$code" = 200

# ---- metrics through promtool ------------------------------------------------------
curl -s "http://127.0.0.1:$PORT1/metrics" >"$TMP/metrics.txt"
rec GET /metrics 200 "$TMP/metrics.txt" "text/plain; version=0.0.4; charset=utf-8"

# ---- every recorded answer against the OpenAPI document ---------------------------
if "$ROOT/test/gateway/client/install.sh" "$TMP/npm.log"; then
  node "$ROOT/test/gateway/client/validate_responses.js" "$TMP/openapi.json" "$ES_E2E_RECORD" >"$TMP/validate.tap" 2>&1
  while IFS= read -r line; do
    case "$line" in
      "ok "*) ok "openapi: ${line#ok * - }" ;;
      "not ok "*) nok "openapi: ${line#not ok * - }" ;;
      "1.."*) ;;
      *) echo "# openapi: $line" ;;
    esac
  done <"$TMP/validate.tap"
  check "openapi: validator ran over $(wc -l <"$ES_E2E_RECORD") recorded answers" grep -q '^1\.\.' "$TMP/validate.tap"
else
  sed 's/^/# npm: /' "$TMP/npm.log" | tail -20
  nok "openapi: pinned validator installed (test/gateway/client, npm ci)"
fi
if command -v promtool >/dev/null; then
  check "promtool check metrics accepts /metrics" bash -c "promtool check metrics <'$TMP/metrics.txt' >'$TMP/promtool.out' 2>&1"
  grep -q . "$TMP/promtool.out" && sed 's/^/# promtool: /' "$TMP/promtool.out" | head
else
  nok "promtool not installed (apt-get install prometheus)"
fi

# ---- a real Prometheus scrapes the gateway -----------------------------------------
if command -v prometheus >/dev/null; then
  PROMPORT=$(free_port)
  cat >"$TMP/prometheus.yml" <<PROM
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: es-gateway
    static_configs:
      - targets: ['127.0.0.1:$PORT1']
PROM
  prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom-data" \
    --web.listen-address="127.0.0.1:$PROMPORT" >"$TMP/prometheus.log" 2>&1 &
  PROMPID=$!; PIDS+=("$PROMPID")
  up=""
  for _ in $(seq 1 100); do
    up=$(curl -s "http://127.0.0.1:$PROMPORT/api/v1/query?query=up%7Bjob%3D%22es-gateway%22%7D" 2>/dev/null \
      | jq -r '.data.result[0].value[1] // empty' 2>/dev/null)
    [ "$up" = 1 ] && break; sleep 0.2
  done
  check "Prometheus scrapes the gateway (up = ${up:-none})" test "$up" = 1
  series=$(curl -s "http://127.0.0.1:$PROMPORT/api/v1/query?query=http_requests_total%7Bendpoint%3D%22%2Fapi%2Fv1%2Fevents%22%7D" \
    | jq -r '.data.result | length' 2>/dev/null)
  check "Prometheus has http_requests_total by route template (${series:-0} series)" \
    bash -c "test '${series:-0}' -gt 0"
  kill "$PROMPID" 2>/dev/null
else
  nok "prometheus not installed (apt-get install prometheus)"
fi
check "metrics never carry raw paths or tenant names" \
  bash -c "! grep -E 'endpoint=\"[^\"]*(order-|tenant-a|e2e)' '$TMP/metrics.txt'"

# ---- access log never contains tokens ---------------------------------------
check "access log is JSON lines" bash -c "head -50 '$TMP/gw1.out' | jq -e . >/dev/null"
check "access log never contains a token" bash -c "! grep -q 'eyJ' '$TMP/gw1.out' '$TMP/gw1.err'"

# ---- graceful shutdown ---------------------------------------------------------
# an open SSE subscription must not block the drain
TOKFILE=$TMP/suite.token
if [ -s "$TOKFILE" ]; then
  curl -sN -H "Authorization: Bearer $(cat "$TOKFILE")" -H 'Accept: text/event-stream' \
       "http://127.0.0.1:$PORT1/api/v1/events" >"$TMP/sse_drain.out" 2>/dev/null &
  CURLPID=$!
  sleep 0.5
fi
# an in-flight request (body still arriving) is completed during the drain
perl -MIO::Socket::INET -e '
  my ($port, $tok, $pid) = @ARGV;
  my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port) or exit 3;
  my $body = q({"type":"log","limit":1});
  print $s "POST /api/v1/queries/execute HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $tok\r\nContent-Type: application/json\r\nContent-Length: " . length($body) . "\r\nConnection: close\r\n\r\n" . substr($body, 0, 5);
  select(undef, undef, undef, 0.5);
  kill "TERM", $pid;
  select(undef, undef, undef, 0.5);
  print $s substr($body, 5);
  local $/; my $r = <$s>; print $r =~ m{^HTTP/1\.1 (\d+)} ? $1 : "none";
' "$PORT1" "$TOKA" "$PID1" >"$TMP/drain.out" 2>&1
check "SIGTERM during a request: the request still completes with 200 (got $(cat "$TMP/drain.out"))" grep -qx 200 "$TMP/drain.out"
for pid in "$PID1" "$PID2"; do kill -TERM "$pid" 2>/dev/null; done
wait_exit() { # pid seconds
  for _ in $(seq 1 $(( $2 * 10 ))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
LIMIT=$([ "$MODE" = plain ] && echo 10 || echo 60)
check "SIGTERM: gateway 1 exits within ${LIMIT}s" wait_exit "$PID1" "$LIMIT"
wait "$PID1"; RC1=$?
check "SIGTERM: gateway 1 exit code 0 (got $RC1)" test "$RC1" -eq 0
check "SIGTERM: gateway 2 exits" wait_exit "$PID2" "$LIMIT"
wait "$PID2"; RC2=$?
check "SIGTERM: gateway 2 exit code 0 (got $RC2)" test "$RC2" -eq 0
PIDS=()
[ -n "${CURLPID:-}" ] && { kill "$CURLPID" 2>/dev/null; wait "$CURLPID" 2>/dev/null; }
check "after shutdown the port is closed" bash -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.1:$PORT1/health/live"
check "shutdown logged 'stopped'" grep -q '"msg":"stopped"' "$TMP/gw1.err"

if [ "$MODE" = valgrind ]; then
  for g in gw1 gw2; do
    grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost' "$TMP/$g.valgrind" | sed "s/^/# $g valgrind: /"
    check "valgrind: $g reported zero errors" grep -q 'ERROR SUMMARY: 0 errors' "$TMP/$g.valgrind"
    check "valgrind: $g leaked nothing definitely/indirectly" bash -c "! grep -qE 'definitely lost: [1-9]|indirectly lost: [1-9]' '$TMP/$g.valgrind'"
    grep -q 'ERROR SUMMARY: 0 errors' "$TMP/$g.valgrind" || sed "s/^/# $g valgrind: /" "$TMP/$g.valgrind" | grep -v '^# [^:]*: ==[0-9]*== *$' | head -80
  done
fi
if [ "$MODE" = asan ]; then
  for g in gw1 gw2; do
    check "asan/ubsan: $g reported nothing" bash -c "! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$TMP/$g.err'"
    grep -E -A30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$TMP/$g.err" | sed "s/^/# $g: /" | head -60
  done
fi
if [ "$FAIL" -gt 0 ]; then
  echo "# gateway stderr (tail):"; tail -20 "$TMP/gw1.err" | sed 's/^/#   /'
fi
echo "1..$N"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]

#!/usr/bin/env bash
# OpenAPI suite: the document a running gateway serves is linted by
# @redocly/cli (recommended rules: 0 errors, 0 warnings), a TypeScript
# client is generated from it by openapi-typescript, and a program using
# that client (openapi-fetch) compiles under tsc --strict and runs against
# the real gateway with real HS256 tokens.
#
# Needs node >= 18.17 and npm; the pinned tools (test/gateway/client/
# package.json + package-lock.json) are installed with `npm ci` into
# test/gateway/client/node_modules, reused while the lock file is unchanged.
# PostgreSQL: PGHOST/PGPORT of a running cluster with es_saas installed, or
# none: then a throwaway cluster is started on ES_CLIENT_PG_PORT (55162).
# Binds 127.0.0.1 only; stops everything it started on exit.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLIENT=$HERE/client
# shellcheck source=../lib/common.sh
. "$ROOT/test/lib/common.sh"
finish() { echo "1..$N"; echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit; }

TMP=$(mktemp -d /tmp/es_gw_client.XXXXXX)
chmod 755 "$TMP"
DB=es_gw_client_$$; ROLE=es_gw_client_$$
ROLEPW=$(openssl rand -hex 16); SECRET=$(openssl rand -hex 24)
GWPID=""; OWN_CLUSTER=""
cleanup() {
  [ -n "$GWPID" ] && kill "$GWPID" 2>/dev/null && wait "$GWPID" 2>/dev/null
  psql -qX -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
  psql -qX -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
  [ -n "$OWN_CLUSTER" ] && "$ROOT/scripts/cluster.sh" stop "$OWN_CLUSTER" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---- tools --------------------------------------------------------------
if "$CLIENT/install.sh" "$TMP/npm.log"; then ok "npm ci: pinned tools installed (node $(node --version))"
else cat "$TMP/npm.log" 2>/dev/null; nok "npm ci: pinned tools installed"; finish; fi

# ---- database and gateway ------------------------------------------------
if [ -z "${PGHOST:-}" ]; then
  OWN_CLUSTER=$TMP/cluster
  "$ROOT/scripts/cluster.sh" start "$OWN_CLUSTER" "${ES_CLIENT_PG_PORT:-55162}" >/dev/null ||
    { nok "start a cluster"; finish; }
  export PGHOST=$OWN_CLUSTER PGPORT=${ES_CLIENT_PG_PORT:-55162}
fi
export PGUSER=${PGUSER:-postgres}
if psql -qX -v ON_ERROR_STOP=1 -d postgres >"$TMP/db.log" 2>&1 <<SQL
CREATE DATABASE $DB;
\c $DB
CREATE EXTENSION es_saas;
CREATE ROLE $ROLE LOGIN PASSWORD '$ROLEPW' IN ROLE es_gateway;
SQL
then ok "database with es_saas and a gateway login role"
else cat "$TMP/db.log"; nok "database"; finish; fi

make -s -C "$ROOT/gateway" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log"; nok "build gateway"; finish; }
GWPORT=$(perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>0,Listen=>1)->sockport')
ES_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$DB user=$ROLE password=$ROLEPW" \
ES_LISTEN=127.0.0.1:$GWPORT ES_JWT_SECRET=$SECRET ES_POOL_SIZE=2 \
ES_RESILIENCE_CONFIG=$ROOT/gateway/config/resilience.yaml \
  "$ROOT/gateway/es-gateway" >"$TMP/gw.out" 2>"$TMP/gw.err" &
GWPID=$!
BASE=http://127.0.0.1:$GWPORT
up=""
for _ in $(seq 1 100); do curl -sf -o /dev/null "$BASE/health/ready" && { up=1; break; }; sleep 0.1; done
if [ -n "$up" ]; then ok "gateway up on 127.0.0.1:$GWPORT"; else tail "$TMP/gw.err"; nok "gateway up"; finish; fi

# ---- redocly lint --------------------------------------------------------
curl -sf "$BASE/api/v1/openapi.json" -o "$TMP/openapi.json" && ok "GET /api/v1/openapi.json" || nok "GET /api/v1/openapi.json"
(cd "$TMP" && "$CLIENT/node_modules/.bin/redocly" lint --extends=recommended --format=stylish openapi.json) \
  >"$TMP/lint.out" 2>&1
LINT_RC=$?
sed 's/^/# redocly: /' "$TMP/lint.out"
if [ $LINT_RC -eq 0 ] && grep -q 'Your API description is valid' "$TMP/lint.out" &&
   ! grep -qiE '[0-9]+ (error|warning)|\b(error|warning)\b' "$TMP/lint.out"; then
  ok "redocly lint (recommended): 0 errors, 0 warnings"
else
  nok "redocly lint (recommended): 0 errors, 0 warnings (exit $LINT_RC)"
fi

# ---- generated client ------------------------------------------------------
mkdir -p "$TMP/ts"
cp "$CLIENT/tsconfig.json" "$CLIENT/client_test.ts" "$TMP/ts/"
ln -s "$CLIENT/node_modules" "$TMP/ts/node_modules"
if "$CLIENT/node_modules/.bin/openapi-typescript" "$TMP/openapi.json" -o "$TMP/ts/api.d.ts" >"$TMP/gen.log" 2>&1; then
  ok "openapi-typescript generated api.d.ts"
else cat "$TMP/gen.log"; nok "openapi-typescript"; fi
# webhooks and $defs are empty on purpose; nothing else may be
check_never() { ! grep -v -e '^export type webhooks' -e '^export type \$defs' "$TMP/ts/api.d.ts" | grep -q 'Record<string, never>'; }
if check_never; then ok "no body or response typed Record<string, never>"
else grep -n 'Record<string, never>' "$TMP/ts/api.d.ts" | sed 's/^/# /' | head; nok "no Record<string, never>"; fi
if (cd "$TMP/ts" && node_modules/.bin/tsc -p tsconfig.json) >"$TMP/tsc.log" 2>&1; then
  ok "tsc --strict compiles the client program"
else sed 's/^/# tsc: /' "$TMP/tsc.log"; nok "tsc --strict"; fi
if [ -f "$TMP/ts/out/client_test.js" ]; then
  ES_URL=$BASE ES_SECRET=$SECRET ES_TENANT=client-$$ timeout 60 node "$TMP/ts/out/client_test.js" >"$TMP/run.log" 2>&1
  RUN_RC=$?
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) ok "client: ${line#ok - }" ;;
      "not ok - "*) nok "client: ${line#not ok - }" ;;
      *) echo "# $line" ;;
    esac
  done <"$TMP/run.log"
  [ $RUN_RC -eq 0 ] && ok "client program exit 0" || nok "client program exit $RUN_RC"
else
  nok "client program built"
fi
finish

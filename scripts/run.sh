#!/usr/bin/env bash
# make run: build, install, start a local cluster under the repo with the
# extension and a demo tenant, and print how to use it.
#   scripts/run.sh        start (idempotent)
#   scripts/run.sh stop   stop what `make run` started
# Environment: ES_PG_PORT (54320), ES_GATEWAY_PORT (8080); ES_RUN_DIR (.run)
# holds the cluster, the gateway's pid, log and secret, so a test can run a
# private instance next to a developer's.  A port held by another program is
# reported before anything is built, started or stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
run_dir=${ES_RUN_DIR:-$root/.run}
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
dir=$run_dir/pg
if ! runuser -u postgres -- test -x "$run_dir" 2>/dev/null; then
	# the run directory is not reachable by the postgres user: keep the
	# cluster in /tmp, one per run directory
	dir=/tmp/es_saas_run_$(id -u)/pg
	[ -z "${ES_RUN_DIR:-}" ] || dir=/tmp/es_saas_run_$(id -u)_$(printf '%s' "$run_dir" | cksum | cut -d' ' -f1)/pg
	mkdir -p "$(dirname "$dir")" && chmod 755 "$(dirname "$dir")"
fi
port=${ES_PG_PORT:-54320}
gw_port=${ES_GATEWAY_PORT:-8080}
db=es_demo
gw_pidfile=$run_dir/gateway.pid
gw_portfile=$run_dir/gateway.port

# true when something accepts connections on 127.0.0.1:$1
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_gateway() {
	if [ -f "$gw_pidfile" ] && kill -0 "$(cat "$gw_pidfile")" 2>/dev/null; then
		kill -TERM "$(cat "$gw_pidfile")"
		for _ in $(seq 1 50); do kill -0 "$(cat "$gw_pidfile")" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$gw_pidfile" "$gw_portfile"
}

# our gateway, alive and on the port asked for now
own_gateway_on_port() {
	[ -f "$gw_pidfile" ] && kill -0 "$(cat "$gw_pidfile")" 2>/dev/null &&
		[ "$(cat "$gw_portfile" 2>/dev/null)" = "$gw_port" ]
}

if [ "${1:-}" = stop ]; then
	stop_gateway
	scripts/cluster.sh stop "$dir"
	echo "stopped"
	exit 0
fi

# Ports first: a port held by another program stops here, before anything
# is built, started or stopped (our own cluster and gateway may hold them).
case "$port$gw_port" in *[!0-9]*)
	echo "make run: ES_PG_PORT and ES_GATEWAY_PORT must be port numbers" >&2
	exit 2 ;;
esac
if ! pg_isready -q -h "$dir" -p "$port" 2>/dev/null && port_busy "$port"; then
	echo "make run: port $port (PostgreSQL) is already in use by another program." >&2
	echo "  Choose another one with ES_PG_PORT, e.g.: ES_PG_PORT=$((port + 1)) make run" >&2
	exit 2
fi
if ! own_gateway_on_port && port_busy "$gw_port"; then
	echo "make run: port $gw_port (REST gateway) is already in use by another program." >&2
	echo "  Choose another one with ES_GATEWAY_PORT, e.g.: ES_GATEWAY_PORT=$((gw_port + 1)) make run" >&2
	exit 2
fi

# a cluster made by an earlier run listens where ES_PG_PORT says now
if [ -f "$dir/data/postgresql.conf" ] && ! pg_isready -q -h "$dir" -p "$port" 2>/dev/null; then
	runuser -u postgres -- sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
fi

make -s all >/dev/null
make -s install >/dev/null
make -s -C gateway >/dev/null
scripts/cluster.sh start "$dir" "$port" "$db" 2>/dev/null || {
	# already running?
	pg_isready -q -h "$dir" -p "$port" || { cat "$dir/server.log" 2>/dev/null | tail -20; exit 1; }
}
export PGHOST=$dir PGPORT=$port PGUSER=postgres
psql -X -q -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 || createdb "$db"
# load (or update) the extension, the demo application and the demo tenant
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS es_saas" \
	-c "ALTER EXTENSION es_saas UPDATE" >/dev/null
if [ -f demo/app.sql ]; then
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f demo/app.sql >/dev/null
fi
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f demo/demo.sql >/dev/null

# the gateway: its own login role (member of es_gateway), a secret kept
# under .run/, listening on 127.0.0.1 only
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "DO \$\$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'es_demo_gateway') THEN
		CREATE ROLE es_demo_gateway LOGIN IN ROLE es_gateway;
	END IF; END \$\$" >/dev/null
secret_file=$run_dir/jwt_secret
[ -s "$secret_file" ] || { openssl rand -hex 32 >"$secret_file"; chmod 600 "$secret_file"; }
secret=$(cat "$secret_file")
stop_gateway
ES_DATABASE_URL="host=$dir port=$port dbname=$db user=es_demo_gateway" \
ES_LISTEN="127.0.0.1:$gw_port" ES_JWT_SECRET="$secret" \
ES_RESILIENCE_CONFIG="$root/gateway/config/resilience.yaml" \
	nohup gateway/es-gateway >"$run_dir/gateway.log" 2>&1 &
echo $! >"$gw_pidfile"
echo "$gw_port" >"$gw_portfile"
for _ in $(seq 1 50); do
	curl -fsS "http://127.0.0.1:$gw_port/health/ready" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "http://127.0.0.1:$gw_port/health/ready" >/dev/null || { tail -20 "$run_dir/gateway.log"; exit 1; }

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
jwt() {
	local header payload sig
	header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
	payload=$(printf '%s' "$1" | b64url)
	sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)
	printf '%s.%s.%s' "$header" "$payload" "$sig"
}
exp=$(($(date +%s) + 86400))
admin_token=$(jwt "{\"sub\":\"admin\",\"roles\":[\"admin\"],\"exp\":$exp}")
tenant_token=$(jwt "{\"sub\":\"alice\",\"tenant_id\":\"demo\",\"exp\":$exp}")

cat <<INFO

es_saas is running.

  cluster:   $dir (PostgreSQL $(pg_config --version | awk '{print $2}'), port $port, also on 127.0.0.1)
  database:  $db, tenant "demo", app role es_demo_app (may act for "demo" only)

Connect:
  psql -h $dir -p $port -U postgres $db          # administrator
  psql -h 127.0.0.1 -p $port -U es_demo_app $db  # the demo application's role

Try:
  SELECT position, stream, version, type, data FROM es_read_log('demo');
  SELECT es_execute('demo', '{"type": "create_project", "stream": "project-4", "name": "Marketing site"}');
  SELECT es_query('demo', '{"type": "projection", "name": "project_board", "key": "project-1"}');
  SELECT es_query('demo', '{"type": "overdue_tasks", "params": {"as_of": "2026-12-31"}}');
  SELECT * FROM es_append('demo', 'audit-1', 0, '[{"type": "Exported", "data": {"rows": 3}}]');

The gateway listens on http://127.0.0.1:$gw_port (log: $run_dir/gateway.log). Tokens (valid 24 h):

  ADMIN=$admin_token
  TENANT=$tenant_token

  # create a tenant (admin token)
  curl -s -X POST http://127.0.0.1:$gw_port/api/v1/tenants -H "Authorization: Bearer \$ADMIN" \\
       -H 'Content-Type: application/json' -d '{"id": "acme", "name": "Acme"}'
  # execute a command for the token's tenant ("demo")
  curl -s -X POST http://127.0.0.1:$gw_port/api/v1/commands/execute -H "Authorization: Bearer \$TENANT" \\
       -H 'Content-Type: application/json' -H "Idempotency-Key: \$(cat /proc/sys/kernel/random/uuid)" \\
       -d '{"type": "add_task", "stream": "task-9", "project": "project-1", "title": "Launch", "due": "2026-12-24"}'
  # run a query
  curl -s -X POST http://127.0.0.1:$gw_port/api/v1/queries/execute -H "Authorization: Bearer \$TENANT" \\
       -H 'Content-Type: application/json' -d '{"type": "projection", "name": "project_board", "key": "project-1"}'
  curl -s http://127.0.0.1:$gw_port/api/v1/streams/task-1 -H "Authorization: Bearer \$TENANT"
  curl -s -N http://127.0.0.1:$gw_port/api/v1/events -H 'Accept: text/event-stream' -H "Authorization: Bearer \$TENANT"
  curl -s http://127.0.0.1:$gw_port/metrics

Mint a token for a new tenant (development only): ES_JWT_SECRET=\$(cat .run/jwt_secret) gateway/es-gateway token --tenant acme --ttl 1h

Stop with: make stop
INFO

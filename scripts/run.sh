#!/usr/bin/env bash
# make run: build, install, start a local cluster under the repo with the
# extension and a demo tenant, and print how to use it.
#   scripts/run.sh        start (idempotent)
#   scripts/run.sh stop   stop what `make run` started
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=$root/.run/pg
port=${ES_PG_PORT:-54320}
db=es_demo

if [ "${1:-}" = stop ]; then
	scripts/cluster.sh stop "$dir"
	echo "stopped"
	exit 0
fi

make -s all >/dev/null
make -s install >/dev/null
scripts/cluster.sh start "$dir" "$port" "$db" 2>/dev/null || {
	# already running?
	pg_isready -q -h "$dir" -p "$port" || { cat "$dir/server.log" 2>/dev/null | tail -20; exit 1; }
}
export PGHOST=$dir PGPORT=$port PGUSER=postgres
psql -X -q -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 || createdb "$db"
# load (or update) the extension, the demo application and the demo tenant
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c "CREATE EXTENSION IF NOT EXISTS es_saas" \
	-c "ALTER EXTENSION es_saas UPDATE" >/dev/null
if [ -f demo/app.sql ]; then
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f demo/app.sql >/dev/null
fi
psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f demo/demo.sql >/dev/null

cat <<INFO

es_saas is running.

  cluster:   $dir (PostgreSQL $(pg_config --version | awk '{print $2}'), port $port, also on 127.0.0.1)
  database:  $db, tenant "demo", app role es_demo_app (may act for "demo" only)

Connect:
  psql -h $dir -p $port -U postgres $db          # administrator
  psql -h 127.0.0.1 -p $port -U es_demo_app $db  # the demo application's role

Try:
  SELECT * FROM es_append('demo', 'project-3', 0, '[{"type":"ProjectCreated","data":{"name":"New"}}]');
  SELECT position, stream, version, type, data FROM es_read_log('demo');
  SELECT es_execute('demo', '{"type":"append","stream":"project-3","expected_version":1,"events":[{"type":"TaskAdded","data":{"task":"t-9"}}]}');
  SELECT es_query('demo', '{"type":"stream","stream":"project-1"}');

Stop with: make stop
INFO

#!/usr/bin/env bash
# Start or stop a PostgreSQL 15 cluster in a directory, as the postgres user.
#   scripts/cluster.sh start DIR PORT [WORKER_DB | preload]
#       cluster listens on DIR socket and 127.0.0.1:PORT; with WORKER_DB,
#       es_saas is preloaded and its projection workers serve WORKER_DB;
#       with "preload", es_saas is preloaded without workers
#   scripts/cluster.sh stop DIR
set -euo pipefail

bindir=$(pg_config --bindir)
cmd=$1 dir=$2

as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
	port=$3
	worker_db=${4:-}
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_postgres "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
			--locale=C.UTF-8 >"$dir/initdb.log" 2>&1
		cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 120
max_prepared_transactions = 10
fsync = on
log_min_messages = warning
CONF
		if [ "$worker_db" = preload ]; then
			cat >>"$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'es_saas'
es_saas.worker_count = 0
CONF
		elif [ -n "$worker_db" ]; then
			cat >>"$dir/data/postgresql.conf" <<CONF
shared_preload_libraries = 'es_saas'
es_saas.worker_database = '$worker_db'
es_saas.worker_naptime = '500ms'
CONF
		fi
	fi
	as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
	fi
	;;
*)
	echo "usage: $0 start DIR PORT | stop DIR" >&2
	exit 2
	;;
esac

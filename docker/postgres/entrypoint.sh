#!/bin/bash
# es-postgres-entrypoint: on an empty data directory, initdb (scram-sha-256,
# superuser password from a secret file), preload es_saas, run the scripts in
# /docker-entrypoint-initdb.d on a socket-only server, then exec postgres.
# Secrets come from *_FILE variables (mounted files), never from the image.
set -euo pipefail

read_secret() {			# read_secret VAR: $VAR_FILE's content, else $VAR
	local var=$1 file_var="${1}_FILE"
	if [ -n "${!file_var:-}" ]; then
		tr -d '\n' <"${!file_var}"
	else
		printf '%s' "${!var:-}"
	fi
}

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
	su_pw=$(read_secret POSTGRES_PASSWORD)
	if [ -z "$su_pw" ]; then
		echo "es-postgres: POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD) is required" >&2
		exit 2
	fi
	pwfile=$(mktemp)
	printf '%s\n' "$su_pw" >"$pwfile"
	initdb -D "$PGDATA" -U postgres --pwfile="$pwfile" -A scram-sha-256 \
		--auth-local=peer -E UTF8 --locale=C.UTF-8 >/dev/null
	rm -f "$pwfile"
	cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '*'
shared_preload_libraries = 'es_saas'
es_saas.worker_database = '$ES_DB'
es_saas.worker_count = ${ES_WORKER_COUNT:-1}
password_encryption = 'scram-sha-256'
CONF
	echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"

	pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -k /var/run/postgresql" start >/dev/null
	psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U postgres -d postgres \
		-c "CREATE DATABASE \"$ES_DB\""
	for f in /docker-entrypoint-initdb.d/*; do
		case $f in
		*.sh) echo "es-postgres: running $f"; . "$f" ;;
		*.sql) echo "es-postgres: running $f"
			psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -U postgres -d "$ES_DB" -f "$f" ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
	echo "es-postgres: initialised $PGDATA"
fi
exec "$@"

#!/usr/bin/env bash
# Run the pg_regress suites against a server running under valgrind and
# fail on any memory error whose stack passes through es_saas.so (the
# server itself has known, harmless reports without suppressions, e.g.
# padding bytes written to WAL).  Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${ES_TEST_BASE:-$root/tmp_check}/valgrind
port=${ES_VALGRIND_PORT:-54331}
bindir=$(pg_config --bindir)

scripts/cluster.sh stop "$dir" 2>/dev/null
rm -rf "$dir"
mkdir -p "$dir"
chown postgres "$dir"
runuser -u postgres -- "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
max_connections = 20
CONF
cat >"$dir/postgres-valgrind" <<WRAP
#!/bin/sh
exec valgrind --quiet --error-limit=no --num-callers=30 --leak-check=no \
	--log-file=$dir/vg.%p.log "$bindir/postgres" "\$@"
WRAP
chmod +x "$dir/postgres-valgrind"
echo "1..2"
if ! runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -p "$dir/postgres-valgrind" \
	-l "$dir/server.log" -w -t 300 start >/dev/null; then
	echo "not ok 1 - server under valgrind did not start"; cat "$dir/server.log"; exit 1
fi
PGHOST=$dir PGPORT=$port PGUSER=postgres make -s installcheck ISOLATION= \
	REGRESS_OPTS="--encoding=UTF8 --dlpath=." >"$dir/regress.out" 2>&1
rc=$?
runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 300 stop >/dev/null
if [ $rc -eq 0 ]; then echo "ok 1 - regress suites pass under valgrind"; else echo "not ok 1 - regress suites under valgrind"; tail -20 "$dir/regress.out"; fi
# a report counts when any frame of its stack is in es_saas.so
errors=$(awk '/^==[0-9]+== [A-Z]/{if (block && hit) n++; block=1; hit=0} /es_saas\.so/{hit=1} END{if (block && hit) n++; print n+0}' "$dir"/vg.*.log)
if [ "$errors" -eq 0 ]; then
	echo "ok 2 - no valgrind error in es_saas.so"
else
	echo "not ok 2 - $errors valgrind errors in es_saas.so"
	grep -l es_saas.so "$dir"/vg.*.log | head -3 | xargs -r sed -n '1,60p'
	rc=1
fi
exit $rc

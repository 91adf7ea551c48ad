#!/usr/bin/env bash
# Instructions per es_append (and per equivalent raw INSERT) of one or more
# builds of es_saas.so, counted by callgrind in a single-user backend with
# the library preloaded from its own path, synchronous_commit off.
# Instruction counts repeat run to run, whatever else the machine does, so
# two builds can be compared where pgbench's tx/s drift by more than the
# difference.
#
#   test/bench/callgrind_append.sh BUILD.so [BUILD.so ...]
#
# Per call = (count of 1,500 calls - count of 500 calls) / 1,000, so the
# backend's start-up and first-call cache fills cancel out.  The 1.1
# schema is used for every build (a newer library serves it).
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD.so [BUILD.so ...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
bindir=$(pg_config --bindir)
base=$(mktemp -d /tmp/es_callgrind.XXXXXX)
chmod 755 "$base"
trap 'rm -rf "$base"' EXIT

# Prepared statements, as pgbench -M prepared runs them: parse and plan once,
# so the count is the execution's (the same payload as test/bench/*.sql).
J='{"order_id":"ord-000012345","customer_id":"cus-000000042","amount":129.95,"currency":"EUR","items":[{"sku":"SKU-000001","qty":2,"price":49.99},{"sku":"SKU-000002","qty":1,"price":29.97}],"channel":"web"}'
gen() { # kind first last
	if [ "$1" = es ]; then
		echo "PREPARE p(text, text) AS SELECT * FROM es_append(\$1, \$2, NULL, '[{\"type\":\"Bench\",\"data\":$J}]');"
	else
		echo "PREPARE p(text, text) AS INSERT INTO bench.raw_events (tenant_id, position, stream, version, type, data, metadata, id, recorded_at, category, batch_size, batch_index) VALUES (\$1, nextval('bench.seq'), \$2, currval('bench.seq'), 'Bench', '$J'::jsonb, '{}'::jsonb, gen_random_uuid(), now(), 's', 1, 0);"
	fi
	for i in $(seq "$2" "$3"); do
		echo "EXECUTE p('t$((i % 4 + 1))', 's-$((i * 7919 % 10000))');"
	done
}

count() { # datadir file
	runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$1/../cg.out" \
		"$bindir/postgres" --single -D "$1" bench <"$2" >"$2.log" 2>&1
	! grep -q ERROR "$2.log" || { grep -m3 ERROR "$2.log" >&2; exit 1; }
	callgrind_annotate "$1/../cg.out" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}

n=0
printf '%-50s %16s %16s\n' build "es_append/call" "raw INSERT/call"
for so in "$@"; do
	n=$((n + 1))
	d=$base/b$n
	mkdir -p "$d" && cp "$so" "$d/es_saas.so" && chown -R postgres "$d"
	runuser -u postgres -- "$bindir/initdb" -D "$d/data" -A trust -U postgres >/dev/null
	printf "listen_addresses = ''\nunix_socket_directories = '%s'\n" "$d" >>"$d/data/postgresql.conf"
	runuser -u postgres -- "$bindir/pg_ctl" -D "$d/data" -l "$d/log" -w start >/dev/null
	psql -X -q -h "$d" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL
CREATE DATABASE bench;
\c bench
CREATE EXTENSION es_saas VERSION '1.1';
UPDATE pg_proc SET probin = '$d/es_saas.so' WHERE probin = '\$libdir/es_saas';
\c bench
SELECT es_create_tenant('t' || i) FROM generate_series(1, 4) i;
CREATE SCHEMA bench;
CREATE TABLE bench.raw_events (LIKE es_saas.events INCLUDING ALL);
CREATE SEQUENCE bench.seq;
SQL
	runuser -u postgres -- "$bindir/pg_ctl" -D "$d/data" -w stop >/dev/null
	printf "shared_preload_libraries = '%s'\nes_saas.worker_count = 0\nsynchronous_commit = off\n" "$d/es_saas.so" >>"$d/data/postgresql.conf"
	for kind in es raw; do
		gen $kind 1 500 >"$d/$kind.small.sql"
		gen $kind 1001 2500 >"$d/$kind.large.sql"
		small=$(count "$d/data" "$d/$kind.small.sql")
		large=$(count "$d/data" "$d/$kind.large.sql")
		eval "per_$kind=$(( (large - small) / 1000 ))"
	done
	printf '%-50s %16d %16d\n' "$so ($(md5sum "$so" | cut -c1-12))" "$per_es" "$per_raw"
done

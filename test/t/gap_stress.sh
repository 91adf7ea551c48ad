#!/usr/bin/env bash
# Gap-safety under load: 8 pgbench clients append to one tenant, holding
# their transactions open a random while and rolling back 1 in 8, while a
# subscriber polls es_read_log with a checkpoint (the last position it saw).
# Every committed event must reach the subscriber, in position order.
# Needs PGHOST/PGPORT/PGUSER of a running cluster with es_saas installed.
set -euo pipefail
db=es_gap_stress
seconds=${GAP_STRESS_SECONDS:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "1..5"
dropdb --if-exists 2>/dev/null --force $db
createdb $db
psql -X -q -v ON_ERROR_STOP=1 -d $db <<'SQL'
CREATE EXTENSION es_saas;
SELECT es_create_tenant('stress') IS NOT NULL AS created \gset
CREATE TABLE seen (position bigint, seen_at int);
CREATE PROCEDURE subscribe(deadline timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
	checkpoint bigint := 0;
	round int := 0;
	last bigint;
BEGIN
	WHILE clock_timestamp() < deadline LOOP
		round := round + 1;
		INSERT INTO seen SELECT position, round FROM es_read_log('stress', checkpoint, 50);
		SELECT max(position) INTO last FROM seen;
		checkpoint := COALESCE(last, 0);
		COMMIT;
		PERFORM pg_sleep(0.002);
	END LOOP;
	-- drain: everything committed is visible once writers are done
	LOOP
		INSERT INTO seen SELECT position, -1 FROM es_read_log('stress', checkpoint, 1000);
		EXIT WHEN NOT FOUND;
		SELECT max(position) INTO checkpoint FROM seen;
		COMMIT;
	END LOOP;
END
$$;
SQL

cat >"$work/append.sql" <<'SQL'
\set sid random(1, 50)
\set rb random(0, 7)
BEGIN;
SELECT * FROM es_append('stress', 's-' || :sid, NULL, '[{"type":"E","data":{"n":1}},{"type":"F","data":{"n":2}}]');
SELECT pg_sleep(random() * 0.004);
\if :rb = 0
ROLLBACK;
\else
COMMIT;
\endif
SQL

psql -X -q -d $db -c "CALL subscribe(clock_timestamp() + interval '$((seconds + 2)) seconds')" &
sub=$!
pgbench -n -c 8 -j 2 -T "$seconds" -f "$work/append.sql" $db >"$work/pgbench.log" 2>&1
wait $sub

# the superuser reads the table directly: the truth to compare against
total=$(psql -X -qAt -d $db -c "SELECT count(*) FROM es_saas.events WHERE tenant_id = 'stress'")
seen=$(psql -X -qAt -d $db -c "SELECT count(DISTINCT position) FROM seen")
order=$(psql -X -qAt -d $db -c "SELECT count(*) FROM (SELECT position, lag(position) OVER (ORDER BY ctid) AS prev FROM seen) s WHERE position <= prev")
dups=$(psql -X -qAt -d $db -c "SELECT count(*) - count(DISTINCT position) FROM seen")
missed=$(psql -X -qAt -d $db -c "SELECT count(*) FROM es_saas.events e WHERE e.tenant_id = 'stress' AND NOT EXISTS (SELECT FROM seen s WHERE s.position = e.position)")
live=$(psql -X -qAt -d $db -c "SELECT count(DISTINCT position) FROM seen WHERE seen_at > 0")

check() { if [ "$2" = "$3" ]; then echo "ok $1 - $4"; else echo "not ok $1 - $4 (got $2, want $3)"; fail=1; fi; }
fail=0
[ "$total" -gt 100 ] && echo "ok 1 - load committed $total events" || { echo "not ok 1 - only $total events committed"; fail=1; }
check 2 "$missed" 0 "the subscriber missed no committed event"
check 3 "$dups" 0 "the subscriber saw no position twice"
check 4 "$order" 0 "positions arrived in increasing order"
[ "$live" -gt 0 ] && echo "ok 5 - $live events were delivered while writers were running" || { echo "not ok 5 - nothing delivered live"; fail=1; }
dropdb $db
exit $fail

#!/usr/bin/env bash
# pg_dump / pg_restore of a database using es_saas keeps every tenant,
# grant, event and command, and the restored log goes on appending.
# Needs PGHOST/PGPORT/PGUSER of a running cluster with es_saas installed.
set -euo pipefail
src=es_dump_src
dst=es_dump_dst
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { if [ "$2" = "$3" ]; then echo "ok $1 - $4"; else echo "not ok $1 - $4 (got '$2', want '$3')"; fail=1; fi; }
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

echo "1..8"
dropdb --if-exists 2>/dev/null $src
dropdb --if-exists 2>/dev/null $dst
createdb $src
psql -X -q -v ON_ERROR_STOP=1 -d $src >/dev/null <<'SQL'
CREATE EXTENSION es_saas;
SELECT es_create_tenant('t1', 'One', '{"tier": 1}');
SELECT es_create_tenant('t2');
SELECT es_suspend_tenant('t2');
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_dump_reader') THEN
		CREATE ROLE regress_dump_reader;
	END IF;
END $$;
SELECT es_grant_tenant('regress_dump_reader', 't1');
SELECT es_append('t1', 'order-' || i % 7, NULL,
	jsonb_build_array(jsonb_build_object('type', 'E', 'data', jsonb_build_object('i', i))))
FROM generate_series(1, 200) i;
SELECT es_execute('t1', '{"type":"append","stream":"cmd-1","id":"c0000000-0000-4000-8000-000000000001","events":[{"type":"C","data":1}]}');
SQL

before=$(q $src "SELECT md5(string_agg(position || stream || version || type || data::text || id::text, ',' ORDER BY position)) FROM es_read_log('t1', 0, 10000)")
pg_dump -Fc -f "$work/dump" $src
createdb $dst
pg_restore -d $dst "$work/dump" 2>"$work/restore.err" || { cat "$work/restore.err"; fail=1; }

check 1 "$(q $dst "SELECT count(*) FROM es_read_log('t1', 0, 10000)")" 201 "all events restored"
check 2 "$(q $dst "SELECT md5(string_agg(position || stream || version || type || data::text || id::text, ',' ORDER BY position)) FROM es_read_log('t1', 0, 10000)")" "$before" "events identical"
check 3 "$(q $dst "SELECT string_agg(t->>'id' || ':' || (t->>'status'), ',') FROM es_list_tenants() t")" "t1:active,t2:suspended" "tenants and their status restored"
check 4 "$(q $dst "SELECT es_get_command('t1', 'c0000000-0000-4000-8000-000000000001') ->> 'stream'")" "cmd-1" "command results restored"
check 5 "$(q $dst "SET ROLE regress_dump_reader; SELECT count(*) FROM es_read_log('t1', 0, 10000)")" 201 "grants restored"
check 6 "$(q $dst "SELECT position FROM es_append('t1', 'order-1', NULL, '[{\"type\":\"After\",\"data\":1}]')")" 202 "the restored log goes on at the next position"
check 7 "$(q $dst "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'es_saas.events'::regclass")" t "row-level security is still forced"
check 8 "$(q $dst "SELECT count(*) FROM pg_shdepend WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND objid = 'es_saas.tenant_grants'::regclass AND refobjid = 'regress_dump_reader'::regrole")" 1 "a restored grant is bound to its role again (DROP ROLE refused while it holds grants)"

dropdb $src
dropdb $dst
exit $fail

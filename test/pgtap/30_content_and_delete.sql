-- es_saas isolation: what the allowed calls return, and es_delete_tenant.
-- Reads of tenant A never return tenant B's events; stream names, command ids
-- and event ids are per tenant; es_delete_tenant erases exactly that tenant's
-- rows (tenant, grants, events, commands) and nothing of the others.
BEGIN;
SELECT plan(47);

\ir _common.psql

-- Fixture: _common.psql's A and B, plus C and the rows below.  Every event's
-- data says its tenant ({"t":"a"} / {"t":"b"} / {"t":"c"}).
--   A: order-1 (2 events), order-2 (1, command aaaa...01), shared-1 (2)   = 5 events, 1 command
--   B: shared-1 (3, the first with id bbbb...e1), order-3 (1, command bbbb...01) = 4 events, 1 command
--   C: order-1 (1)                                                        = 1 event
DO $$
BEGIN
	PERFORM es_create_tenant('regress-c', 'Tenant C');
	PERFORM es_grant_tenant('regress_gb', 'regress-b');
	PERFORM es_execute('regress-a', '{"type":"append","id":"aaaaaaaa-0000-4000-8000-000000000001",
		"stream":"order-2","events":[{"type":"created","data":{"t":"a"}}]}');
	PERFORM es_append('regress-a', 'shared-1', 0,
		'[{"type":"s","data":{"t":"a"}},{"type":"s","data":{"t":"a"}}]');
	PERFORM es_append('regress-b', 'shared-1', 0,
		'[{"type":"s","data":{"t":"b"},"id":"bbbbbbbb-0000-4000-8000-0000000000e1"},
		  {"type":"s","data":{"t":"b"}},{"type":"s","data":{"t":"b"}}]');
	PERFORM es_execute('regress-b', '{"type":"append","id":"bbbbbbbb-0000-4000-8000-000000000001",
		"stream":"order-3","events":[{"type":"created","data":{"t":"b"}}]}');
	PERFORM es_append('regress-c', 'order-1', 0, '[{"type":"created","data":{"t":"c"}}]');
END
$$;

-- 'n/m': number of events returned / of those whose data says tenant p_t.
CREATE FUNCTION regress_pgtap.own(p_role name, p_from text, p_t text) RETURNS text LANGUAGE sql AS $f$
	SELECT regress_pgtap.value(p_role, pg_catalog.format(
		'SELECT count(*) || ''/'' || count(*) FILTER (WHERE data->>''t'' = %L) FROM %s', p_t, p_from))
$f$;
CREATE FUNCTION regress_pgtap.own_q(p_role name, p_query text, p_t text) RETURNS text LANGUAGE sql AS $f$
	SELECT regress_pgtap.value(p_role, pg_catalog.format(
		'SELECT count(*) || ''/'' || count(*) FILTER (WHERE e->''data''->>''t'' = %L) '
		'FROM jsonb_array_elements((%s)->''events'') e', p_t, p_query))
$f$;
-- Rows per tenant of each table, as the superuser sees them (RLS bypassed).
CREATE FUNCTION regress_pgtap.rows_of(p_table text) RETURNS text LANGUAGE sql AS $f$
	SELECT regress_pgtap.visible(NULL, NULL, p_table, true)
$f$;

-- 1. Reads as a role granted A return A's events only.
SELECT is(regress_pgtap.own('regress_ga', $q$es_read_log('regress-a')$q$, 'a'), '5/5',
	'granted A: es_read_log(A) returns A''s 5 events, all of A');
SELECT is(regress_pgtap.own('regress_ga', $q$es_read_stream('regress-a', 'shared-1')$q$, 'a'), '2/2',
	'granted A: es_read_stream(A, shared-1) returns A''s 2 events (B has a stream of that name too)');
SELECT is(regress_pgtap.own('regress_ga', $q$es_read_category('regress-a', 'shared')$q$, 'a'), '2/2',
	'granted A: es_read_category(A, shared) returns A''s 2 events only');
SELECT is(regress_pgtap.own('regress_ga', $q$es_read_category('regress-a', 'order')$q$, 'a'), '3/3',
	'granted A: es_read_category(A, order) returns A''s 3 events only');
SELECT is(regress_pgtap.own('regress_ga', $q$es_read_stream('regress-a', 'order-3')$q$, 'a'), '0/0',
	'granted A: es_read_stream(A, order-3) (a stream of B only) returns nothing');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_stream_version('regress-a', 'shared-1')$q$), '2',
	'granted A: es_stream_version(A, shared-1) = 2 (B''s stream of that name has 3)');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_stream_version('regress-a', 'order-3')$q$), '0',
	'granted A: es_stream_version(A, order-3) = 0 (only B has that stream)');
SELECT is(regress_pgtap.own_q('regress_ga', $q$SELECT es_query('regress-a', '{"type":"log"}')$q$, 'a'), '5/5',
	'granted A: es_query(A, log) returns A''s 5 events only');
SELECT is(regress_pgtap.own_q('regress_ga', $q$SELECT es_query('regress-a', '{"type":"stream","stream":"shared-1"}')$q$, 'a'), '2/2',
	'granted A: es_query(A, stream shared-1) returns A''s 2 events only');
SELECT is(regress_pgtap.own_q('regress_ga', $q$SELECT es_query('regress-a', '{"type":"category","category":"shared"}')$q$, 'a'), '2/2',
	'granted A: es_query(A, category shared) returns A''s 2 events only');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_get_command('regress-a', 'aaaaaaaa-0000-4000-8000-000000000001')->>'stream'$q$),
	'order-2', 'granted A: es_get_command(A, A''s command id) returns A''s result');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_get_command('regress-a', 'bbbbbbbb-0000-4000-8000-000000000001')$q$),
	'<null>', 'granted A: es_get_command(A, B''s command id) is NULL');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_get_tenant('regress-a')->>'id'$q$), 'regress-a',
	'granted A: es_get_tenant(A) returns tenant A');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT min(position) || '-' || max(position) FROM es_read_log('regress-a')$q$),
	'1-5', 'granted A: A''s positions are its own, 1..5 (not shared with B)');
SELECT is(regress_pgtap.own('regress_mem', $q$es_read_log('regress-a')$q$, 'a'), '5/5',
	'member of granted A: es_read_log(A) returns A''s 5 events, all of A');

-- 2. Reads of B by the gateway return B's events only.
SELECT is(regress_pgtap.own('regress_gw', $q$es_read_log('regress-b')$q$, 'b'), '4/4',
	'es_gateway member: es_read_log(B) returns B''s 4 events, all of B');
SELECT is(regress_pgtap.own('regress_gw', $q$es_read_stream('regress-b', 'shared-1')$q$, 'b'), '3/3',
	'es_gateway member: es_read_stream(B, shared-1) returns B''s 3 events');
SELECT is(regress_pgtap.own('regress_gb', $q$es_read_category('regress-b', 'order')$q$, 'b'), '1/1',
	'granted B: es_read_category(B, order) returns B''s 1 event only');

-- 3. Command ids and event ids are per tenant: nothing of B is replayed into A.
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_execute('regress-a',
		'{"type":"append","id":"bbbbbbbb-0000-4000-8000-000000000001","stream":"order-7",
		  "events":[{"type":"created","data":{"t":"a"}}]}')->>'stream'$q$),
	'order-7', 'granted A: es_execute(A) with B''s command id runs in A (not B''s stored result)');
-- (a position after A's five: 6, or 7 with es_saas preloaded, where the
-- rolled-back append above left 6 as a hole)
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT version || '/' || (position IN (6, 7)) FROM es_append('regress-a', 'shared-1', NULL,
		'[{"type":"s","data":{"t":"a"},"id":"bbbbbbbb-0000-4000-8000-0000000000e1"}]')$q$),
	'3/true', 'granted A: es_append(A) with an event id stored in B appends a new event (no replay of B''s batch)');
SELECT is(regress_pgtap.value('regress_gw', $q$SELECT es_get_command('regress-b', 'bbbbbbbb-0000-4000-8000-000000000001')->>'stream'$q$),
	'order-3', 'es_gateway member: B''s stored command result is unchanged');

-- 4. es_delete_tenant(A) erases A's rows in every table, and only those.
SELECT is(regress_pgtap.rows_of('tenants'), 'regress-a:1,regress-b:1,regress-c:1', 'before: tenants rows per tenant');
SELECT is(regress_pgtap.rows_of('tenant_grants'), 'regress-a:1,regress-b:1', 'before: tenant_grants rows per tenant');
SELECT is(regress_pgtap.rows_of('events'), 'regress-a:5,regress-b:4,regress-c:1', 'before: events rows per tenant');
SELECT is(regress_pgtap.rows_of('commands'), 'regress-a:1,regress-b:1', 'before: commands rows per tenant');
SELECT is(regress_pgtap.keep('regress_admin', $q$SELECT es_delete_tenant('regress-a')::text$q$)::jsonb,
	'{"id": "regress-a", "status": "deleted", "events_deleted": 5}'::jsonb,
	'es_admin member: es_delete_tenant(A) reports A''s 5 events deleted');
SELECT is(regress_pgtap.rows_of('tenants'), 'regress-b:1,regress-c:1', 'after: tenants has no row of A, B and C intact');
SELECT is(regress_pgtap.rows_of('tenant_grants'), 'regress-b:1', 'after: tenant_grants has no row of A, B intact');
SELECT is(regress_pgtap.rows_of('events'), 'regress-b:4,regress-c:1', 'after: events has no row of A, B and C intact');
SELECT is(regress_pgtap.rows_of('commands'), 'regress-b:1', 'after: commands has no row of A, B intact');
SELECT is(regress_pgtap.own('regress_gw', $q$es_read_log('regress-b')$q$, 'b'), '4/4',
	'after: es_gateway member still reads B''s 4 events');
SELECT is(regress_pgtap.value('regress_gb', $q$SELECT es_stream_version('regress-b', 'shared-1')$q$), '3',
	'after: granted B still sees B''s shared-1 at version 3');
SELECT is(regress_pgtap.own('regress_gw', $q$es_read_log('regress-c')$q$, 'c'), '1/1',
	'after: es_gateway member still reads C''s event');
SELECT is(regress_pgtap.outcome('regress_ga', $q$SELECT * FROM es_read_log('regress-a')$q$), 'ES403',
	'after: granted A (grant erased): es_read_log(A) -> ES403');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT count(*) FROM es_list_tenants()$q$), '0',
	'after: granted A (grant erased): es_list_tenants() is empty');
SELECT is(regress_pgtap.outcome('regress_admin', $q$SELECT es_get_tenant('regress-a')$q$), 'ES404',
	'after: es_admin member: es_get_tenant(A) -> ES404');
SELECT is(regress_pgtap.outcome('regress_admin', $q$SELECT es_delete_tenant('regress-a')$q$), 'ES404',
	'after: es_admin member: es_delete_tenant(A) again -> ES404');
SELECT is(regress_pgtap.visible('regress_gw', 'regress-a', 'events'), 'none',
	'after: es_gateway member with es_saas.tenant = A sees no event');
SELECT is(regress_pgtap.outcome('regress_su', $q$DELETE FROM es_saas.events WHERE tenant_id = 'regress-b'$q$), 'ES403',
	'after: the purge path is closed again: superuser DELETE of B''s events -> ES403');
SELECT is(regress_pgtap.outcome('regress_gw', $q$SELECT es_delete_tenant('regress-b')$q$), '42501',
	'es_gateway member: es_delete_tenant(B) -> 42501');
SELECT is(regress_pgtap.outcome('regress_gb', $q$SELECT es_delete_tenant('regress-b')$q$), '42501',
	'granted B: es_delete_tenant(B) -> 42501');
SELECT is(regress_pgtap.rows_of('events'), 'regress-b:4,regress-c:1', 'refused deletes left B''s events intact');

-- 5. A tenant created again under A's id starts empty, without A's old grants.
SELECT is(regress_pgtap.keep('regress_gw', $q$SELECT es_create_tenant('regress-a')->>'status'$q$), 'active',
	'es_gateway member creates tenant A again');
SELECT is(regress_pgtap.value('regress_gw', $q$SELECT count(*) FROM es_read_log('regress-a')$q$), '0',
	'recreated A: es_read_log is empty');
SELECT is(regress_pgtap.value('regress_gw', $q$SELECT es_stream_version('regress-a', 'shared-1')$q$), '0',
	'recreated A: shared-1 has version 0');
SELECT is(regress_pgtap.value('regress_gw', $q$SELECT position FROM es_append('regress-a', 'x-1', 0, '[{"type":"t","data":{}}]')$q$),
	'1', 'recreated A: the first append gets position 1');
SELECT is(regress_pgtap.outcome('regress_ga', $q$SELECT * FROM es_read_log('regress-a')$q$), 'ES403',
	'recreated A: the old grant does not come back (granted A -> ES403)');

SELECT * FROM finish();
ROLLBACK;

-- es_saas isolation: direct access to the tables of schema es_saas.
-- SELECT is granted to PUBLIC on tenants, events and commands, but forced
-- row-level security shows only the rows of the tenant established in
-- es_saas.tenant, and only when the role may act for it; no setting, no rows.
-- Superusers bypass row-level security (PostgreSQL rule) and see everything.
-- tenant_grants is not readable at all but by superusers.  No role may
-- INSERT/UPDATE/DELETE/TRUNCATE (42501); the event table refuses UPDATE,
-- DELETE and TRUNCATE even for superusers (ES403, trigger).
BEGIN;
SELECT plan(178);

\ir _common.psql

-- Fixture: _common.psql's A and B, plus C.  Rows per table and tenant:
--   tenants A1 B1 C1; tenant_grants A1 (regress_ga) B1 (regress_gb);
--   events A3 B5 C1; commands A1 B2.
DO $$
BEGIN
	PERFORM es_create_tenant('regress-c', 'Tenant C');
	PERFORM es_grant_tenant('regress_gb', 'regress-b');
	PERFORM es_execute('regress-a', '{"type":"append","id":"aaaaaaaa-0000-4000-8000-000000000001",
		"stream":"order-2","events":[{"type":"created","data":{"t":"a"}}]}');
	PERFORM es_append('regress-b', 'order-1', 0,
		'[{"type":"created","data":{"t":"b"}},{"type":"paid","data":{"t":"b"}},{"type":"shipped","data":{"t":"b"}}]');
	PERFORM es_execute('regress-b', '{"type":"append","id":"bbbbbbbb-0000-4000-8000-000000000001",
		"stream":"order-2","events":[{"type":"created","data":{"t":"b"}}]}');
	PERFORM es_execute('regress-b', '{"type":"append","id":"bbbbbbbb-0000-4000-8000-000000000002",
		"stream":"order-3","events":[{"type":"created","data":{"t":"b"}}]}');
	PERFORM es_append('regress-c', 'order-1', 0, '[{"type":"created","data":{"t":"c"}}]');
END
$$;

CREATE TABLE regress_pgtap.kinds (ord int, kind text, role name, su bool, adm bool, gw bool, a bool);
INSERT INTO regress_pgtap.kinds VALUES
	(1, 'superuser',            'regress_su',    true,  true,  false, false),
	(2, 'es_admin member',      'regress_admin', false, true,  false, false),
	(3, 'es_gateway member',    'regress_gw',    false, false, true,  false),
	(4, 'granted A',            'regress_ga',    false, false, false, true),
	(5, 'granted nothing',      'regress_none',  false, false, false, false),
	(6, 'member of granted A',  'regress_mem',   false, false, false, true);

CREATE TABLE regress_pgtap.settings (ord int, label text, tenant text);
INSERT INTO regress_pgtap.settings VALUES (1, 'A', 'regress-a'), (2, 'B', 'regress-b'), (3, 'unset', NULL);

CREATE TABLE regress_pgtap.tbls (ord int, tbl text);
INSERT INTO regress_pgtap.tbls VALUES (1, 'tenants'), (2, 'tenant_grants'), (3, 'events'), (4, 'commands');

-- Rows of the fixture, per table and tenant.
CREATE TABLE regress_pgtap.fixture (tbl text, tenant text, n int);
INSERT INTO regress_pgtap.fixture VALUES
	('tenants', 'regress-a', 1), ('tenants', 'regress-b', 1), ('tenants', 'regress-c', 1),
	('tenant_grants', 'regress-a', 1), ('tenant_grants', 'regress-b', 1),
	('events', 'regress-a', 3), ('events', 'regress-b', 5), ('events', 'regress-c', 1),
	('commands', 'regress-a', 1), ('commands', 'regress-b', 2);

-- 'tenant:n,...' of the fixture rows of tbl whose tenant is in ids, or 'none'.
CREATE FUNCTION regress_pgtap.expect(p_tbl text, p_ids text[]) RETURNS text LANGUAGE sql AS $f$
	SELECT coalesce(string_agg(tenant || ':' || n, ',' ORDER BY tenant), 'none')
	FROM regress_pgtap.fixture WHERE tbl = p_tbl AND tenant = ANY (p_ids)
$f$;

CREATE FUNCTION regress_pgtap.run_cells(p_cells text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
	r record;
BEGIN
	FOR r IN EXECUTE p_cells LOOP
		RETURN NEXT is(regress_pgtap.outcome(r.role, r.sql, r.tenant), r.expected, r.descr);
	END LOOP;
END
$f$;

CREATE FUNCTION regress_pgtap.run_visible(p_cells text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
	r record;
BEGIN
	FOR r IN EXECUTE p_cells LOOP
		RETURN NEXT is(regress_pgtap.visible(r.role, r.tenant, r.tbl, r.su), r.expected, r.descr);
	END LOOP;
END
$f$;

-- 1. SELECT: 6 kinds x 3 settings x 4 tables = 72 tests.  Counted over the
--    whole table for every role but the superuser (whose count is limited to
--    this file's tenants, since it bypasses row-level security).
SELECT * FROM regress_pgtap.run_visible($cells$
	SELECT k.role, s.tenant, t.tbl, k.su, e.expected,
		   format('%s (%s): SELECT es_saas.%s with es_saas.tenant %s -> %s',
				  k.kind, k.role, t.tbl, s.label, e.expected) AS descr
	FROM regress_pgtap.kinds k
	CROSS JOIN regress_pgtap.settings s
	CROSS JOIN regress_pgtap.tbls t
	CROSS JOIN LATERAL (SELECT CASE
		WHEN k.su THEN regress_pgtap.expect(t.tbl, ARRAY['regress-a', 'regress-b', 'regress-c'])
		WHEN t.tbl = 'tenant_grants' THEN '42501'
		WHEN s.tenant IS NULL THEN 'none'
		WHEN k.adm OR k.gw OR (s.label = 'A' AND k.a) THEN regress_pgtap.expect(t.tbl, ARRAY[s.tenant])
		ELSE 'none' END AS expected) e
	ORDER BY k.ord, s.ord, t.ord
$cells$);

-- 2. Writes by every role but the superuser: 5 kinds x 4 tables x 4 commands
--    = 80 tests, with es_saas.tenant set to A (the role's own tenant where it
--    has one): all refused for lack of privilege (42501).
CREATE TABLE regress_pgtap.writes (ord int, tbl text, op text, sql text);
INSERT INTO regress_pgtap.writes VALUES
	( 1, 'tenants', 'INSERT', $q$INSERT INTO es_saas.tenants (tenant_id) VALUES ('regress-x')$q$),
	( 2, 'tenants', 'UPDATE', $q$UPDATE es_saas.tenants SET status = 'active'$q$),
	( 3, 'tenants', 'DELETE', $q$DELETE FROM es_saas.tenants$q$),
	( 4, 'tenants', 'TRUNCATE', $q$TRUNCATE es_saas.tenants CASCADE$q$),
	( 5, 'tenant_grants', 'INSERT', $q$INSERT INTO es_saas.tenant_grants (tenant_id, role) VALUES ('regress-b', current_user)$q$),
	( 6, 'tenant_grants', 'UPDATE', $q$UPDATE es_saas.tenant_grants SET role = current_user$q$),
	( 7, 'tenant_grants', 'DELETE', $q$DELETE FROM es_saas.tenant_grants$q$),
	( 8, 'tenant_grants', 'TRUNCATE', $q$TRUNCATE es_saas.tenant_grants$q$),
	( 9, 'events', 'INSERT', $q$INSERT INTO es_saas.events SELECT 'regress-a', 100, 'order-1', 100, 't', '{}', '{}',
		gen_random_uuid(), now(), 'order', 1, 0$q$),
	(10, 'events', 'UPDATE', $q$UPDATE es_saas.events SET data = '{"forged":true}'$q$),
	(11, 'events', 'DELETE', $q$DELETE FROM es_saas.events$q$),
	(12, 'events', 'TRUNCATE', $q$TRUNCATE es_saas.events$q$),
	(13, 'commands', 'INSERT', $q$INSERT INTO es_saas.commands (tenant_id, command_id, type, result)
		VALUES ('regress-a', gen_random_uuid(), 't', '{}')$q$),
	(14, 'commands', 'UPDATE', $q$UPDATE es_saas.commands SET result = '{}'$q$),
	(15, 'commands', 'DELETE', $q$DELETE FROM es_saas.commands$q$),
	(16, 'commands', 'TRUNCATE', $q$TRUNCATE es_saas.commands$q$);
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT k.role, w.sql, 'regress-a' AS tenant, '42501' AS expected,
		   format('%s (%s): %s es_saas.%s -> 42501', k.kind, k.role, w.op, w.tbl) AS descr
	FROM regress_pgtap.kinds k
	CROSS JOIN regress_pgtap.writes w
	WHERE NOT k.su
	ORDER BY k.ord, w.ord
$cells$);

-- 3. Events are immutable even for a superuser, also in replica mode (6 tests).
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT 'regress_su'::name AS role, w.sql, NULL::text AS tenant, 'ES403' AS expected,
		   format('superuser (regress_su): %s es_saas.events%s -> ES403 (immutability trigger)', w.op, w.note) AS descr
	FROM (VALUES
		(1, 'UPDATE', '', $q$UPDATE es_saas.events SET data = '{"forged":true}' WHERE tenant_id = 'regress-b'$q$),
		(2, 'DELETE', '', $q$DELETE FROM es_saas.events WHERE tenant_id = 'regress-b'$q$),
		(3, 'TRUNCATE', '', $q$TRUNCATE es_saas.events$q$),
		(4, 'UPDATE', ' with session_replication_role = replica',
		 $q$DO $d$ BEGIN SET LOCAL session_replication_role = replica;
			UPDATE es_saas.events SET data = '{"forged":true}' WHERE tenant_id = 'regress-b'; END $d$$q$),
		(5, 'DELETE', ' with session_replication_role = replica',
		 $q$DO $d$ BEGIN SET LOCAL session_replication_role = replica;
			DELETE FROM es_saas.events WHERE tenant_id = 'regress-b'; END $d$$q$),
		(6, 'TRUNCATE', ' with session_replication_role = replica',
		 $q$DO $d$ BEGIN SET LOCAL session_replication_role = replica;
			TRUNCATE es_saas.events; END $d$$q$)
	) AS w(ord, op, note, sql)
	ORDER BY w.ord
$cells$);

-- 4. Forging the tenant: regress_ga is granted A only.
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT count(*) FROM es_saas.events WHERE tenant_id = 'regress-b'$q$, 'regress-b'),
	'0', 'granted A: es_saas.tenant = B, SELECT events WHERE tenant_id = B -> 0 rows');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT count(*) FROM es_saas.commands WHERE command_id = 'bbbbbbbb-0000-4000-8000-000000000001'$q$, 'regress-b'),
	'0', 'granted A: es_saas.tenant = B, SELECT commands by B''s command id -> 0 rows');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_saas.current_tenant()$q$, 'regress-b'),
	'<null>', 'granted A: es_saas.current_tenant() is NULL with es_saas.tenant = B');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_saas.current_tenant()$q$, 'regress-a'),
	'regress-a', 'granted A: es_saas.current_tenant() is A with es_saas.tenant = A');
SELECT is(regress_pgtap.value('regress_mem', $q$SELECT es_saas.current_tenant()$q$, 'regress-b'),
	'<null>', 'member of granted A: es_saas.current_tenant() is NULL with es_saas.tenant = B');
SELECT is(regress_pgtap.visible('regress_gb', 'regress-a', 'events'),
	'none', 'granted B: SELECT events with es_saas.tenant = A -> no rows');
SELECT is(regress_pgtap.visible('regress_gb', 'regress-b', 'events'),
	'regress-b:5', 'granted B: SELECT events with es_saas.tenant = B -> B''s 5 rows');
SELECT is(regress_pgtap.visible('regress_ga', 'regress-c', 'events'),
	'none', 'granted A: SELECT events with es_saas.tenant = C (granted to nobody) -> no rows');
SELECT is(regress_pgtap.visible('regress_ga', '', 'events'),
	'none', 'granted A: SELECT events with es_saas.tenant = '''' -> no rows');
SELECT is(regress_pgtap.visible('regress_ga', 'REGRESS-A', 'events'),
	'none', 'granted A: SELECT events with es_saas.tenant = A in upper case -> no rows');
SELECT is(regress_pgtap.visible('regress_gw', 'REGRESS-B', 'events'),
	'none', 'es_gateway member: SELECT events with es_saas.tenant = B in upper case -> no rows');
SELECT is(regress_pgtap.visible('regress_ga', 'regress-a' || repeat('x', 100), 'events'),
	'none', 'granted A: SELECT events with an over-long es_saas.tenant -> no rows');
SELECT is(regress_pgtap.visible('regress_ga', 'regress-a,regress-b', 'events'),
	'none', 'granted A: SELECT events with es_saas.tenant = ''A,B'' -> no rows');
SELECT is(regress_pgtap.visible('regress_ga', 'regress-b', 'tenants'),
	'none', 'granted A: SELECT tenants with es_saas.tenant = B -> no rows');

-- 5. Non-LEAKPROOF functions in a query see only the rows row-level security lets through.
CREATE FUNCTION regress_pgtap.peek(p_tenant text) RETURNS boolean
	LANGUAGE plpgsql COST 0.0001 AS $f$
BEGIN
	IF p_tenant IS DISTINCT FROM 'regress-a' THEN
		RAISE EXCEPTION 'saw a row of tenant %', p_tenant USING ERRCODE = 'ZX001';
	END IF;
	RETURN true;
END
$f$;
SELECT is(regress_pgtap.value('regress_ga',
	$q$SELECT count(*) FROM es_saas.events WHERE regress_pgtap.peek(tenant_id)$q$, 'regress-a'),
	'3', 'granted A: a cheap non-LEAKPROOF function in WHERE is only shown A''s rows (events)');
SELECT is(regress_pgtap.value('regress_ga',
	$q$SELECT count(*) FROM es_saas.tenants WHERE regress_pgtap.peek(tenant_id)$q$, 'regress-a'),
	'1', 'granted A: a cheap non-LEAKPROOF function in WHERE is only shown A''s rows (tenants)');
SELECT is(regress_pgtap.value('regress_none',
	$q$SELECT count(*) FROM es_saas.events WHERE regress_pgtap.peek(tenant_id)$q$, 'regress-a'),
	'0', 'granted nothing: a cheap non-LEAKPROOF function in WHERE is shown no row');

-- 6. Planner statistics do not leak column values to roles under RLS.
ANALYZE es_saas.tenants, es_saas.events, es_saas.commands;
SELECT is(regress_pgtap.value('regress_ga',
	$q$SELECT count(*) FROM pg_stats WHERE schemaname = 'es_saas'$q$, 'regress-a'),
	'0', 'granted A: pg_stats shows nothing of the es_saas tables');
SELECT is(regress_pgtap.value('regress_admin',
	$q$SELECT count(*) FROM pg_stats WHERE schemaname = 'es_saas'$q$, 'regress-a'),
	'0', 'es_admin member (not superuser): pg_stats shows nothing of the es_saas tables');

-- 7. Nothing above changed the fixture.
SELECT is(regress_pgtap.visible('regress_su', NULL, 'events', true),
	'regress-a:3,regress-b:5,regress-c:1', 'events unchanged after all refused writes');

SELECT * FROM finish();
ROLLBACK;

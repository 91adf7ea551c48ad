-- es_saas isolation: the role x function x tenant matrix.
-- For each role kind (superuser, es_admin member, es_gateway member, role
-- granted tenant A, role granted nothing, member of a role granted A) and each
-- es_* function, against tenant A (regress-a) and tenant B (regress-b):
-- allowed ('ok') or refused.  Refusals: ES403 from the function's own check;
-- 42501 where EXECUTE is not even granted (tenant management functions), and
-- ES403 again when EXECUTE is granted anyway (defense in depth).
-- Every call runs in a subtransaction that is rolled back (regress_pgtap.outcome),
-- so each cell starts from the same fixture.
BEGIN;
SELECT plan(255);

\ir _common.psql

-- Fixture (on top of _common.psql's A and B, A granted to regress_ga): a
-- command in A, an event and a command in B, B granted to regress_gb.
DO $$
BEGIN
	PERFORM es_grant_tenant('regress_gb', 'regress-b');
	PERFORM es_execute('regress-a', '{"type":"append","id":"aaaaaaaa-0000-4000-8000-000000000001",
		"stream":"order-2","events":[{"type":"created","data":{"t":"a"}}]}');
	PERFORM es_append('regress-b', 'order-1', 0, '[{"type":"created","data":{"t":"b"}}]');
	PERFORM es_execute('regress-b', '{"type":"append","id":"bbbbbbbb-0000-4000-8000-000000000001",
		"stream":"order-3","events":[{"type":"created","data":{"t":"b"}}]}');
END
$$;

-- Role kinds: adm = administrator, gw = gateway, a = may act for regress-a.
CREATE TABLE regress_pgtap.kinds (ord int, kind text, role name, adm bool, gw bool, a bool);
INSERT INTO regress_pgtap.kinds VALUES
	(1, 'superuser',            'regress_su',    true,  false, false),
	(2, 'es_admin member',      'regress_admin', true,  false, false),
	(3, 'es_gateway member',    'regress_gw',    false, true,  false),
	(4, 'granted A',            'regress_ga',    false, false, true),
	(5, 'granted nothing',      'regress_none',  false, false, false),
	(6, 'member of granted A',  'regress_mem',   false, false, true);

-- Functions: cls 'tenant' = any role that may act for the tenant (ES403 otherwise);
-- 'manage' = administrators only, EXECUTE revoked from PUBLIC (42501);
-- 'create' = administrators and the gateway, EXECUTE revoked from PUBLIC (42501).
CREATE TABLE regress_pgtap.fns (ord int, fn text, cls text, tmpl text);
INSERT INTO regress_pgtap.fns VALUES
	( 1, 'es_create_tenant (existing)', 'create', $q$SELECT es_create_tenant(%L)$q$),
	( 2, 'es_get_tenant',      'tenant', $q$SELECT es_get_tenant(%L)$q$),
	( 3, 'es_suspend_tenant',  'manage', $q$SELECT es_suspend_tenant(%L)$q$),
	( 4, 'es_resume_tenant',   'manage', $q$SELECT es_resume_tenant(%L)$q$),
	( 5, 'es_delete_tenant',   'manage', $q$SELECT es_delete_tenant(%L)$q$),
	( 6, 'es_grant_tenant',    'manage', $q$SELECT es_grant_tenant('regress_none', %L)$q$),
	( 7, 'es_revoke_tenant',   'manage', $q$SELECT es_revoke_tenant('regress_ga', %L)$q$),
	( 8, 'es_append',          'tenant', $q$SELECT * FROM es_append(%L, 'order-9', NULL, '[{"type":"t","data":{}}]')$q$),
	( 9, 'es_execute',         'tenant', $q$SELECT es_execute(%L, '{"type":"append","stream":"order-9","events":[{"type":"t","data":{}}]}')$q$),
	(10, 'es_get_command',     'tenant', $q$SELECT es_get_command(%L, 'aaaaaaaa-0000-4000-8000-000000000001')$q$),
	(11, 'es_read_stream',     'tenant', $q$SELECT * FROM es_read_stream(%L, 'order-1')$q$),
	(12, 'es_read_log',        'tenant', $q$SELECT * FROM es_read_log(%L)$q$),
	(13, 'es_read_category',   'tenant', $q$SELECT * FROM es_read_category(%L, 'order')$q$),
	(14, 'es_stream_version',  'tenant', $q$SELECT es_stream_version(%L, 'order-1')$q$),
	(15, 'es_query',           'tenant', $q$SELECT es_query(%L, '{"type":"log"}')$q$);

CREATE TABLE regress_pgtap.tenants (ord int, label text, id text);
INSERT INTO regress_pgtap.tenants VALUES (1, 'A', 'regress-a'), (2, 'B', 'regress-b');

-- Run a list of (role, sql, expected, description) as pgTAP is() tests, in order.
CREATE FUNCTION regress_pgtap.run_cells(p_cells text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE
	r record;
BEGIN
	FOR r IN EXECUTE p_cells LOOP
		RETURN NEXT is(regress_pgtap.outcome(r.role, r.sql), r.expected, r.descr);
	END LOOP;
END
$f$;

-- 1. The matrix: 6 kinds x 15 functions x 2 tenants = 180 tests.
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT k.role, format(f.tmpl, t.id) AS sql, e.expected,
		   format('%s (%s): %s on tenant %s -> %s', k.kind, k.role, f.fn, t.label, e.expected) AS descr
	FROM regress_pgtap.kinds k
	CROSS JOIN regress_pgtap.fns f
	CROSS JOIN regress_pgtap.tenants t
	CROSS JOIN LATERAL (SELECT CASE f.cls
		WHEN 'tenant' THEN CASE WHEN k.adm OR k.gw OR (t.label = 'A' AND k.a) THEN 'ok' ELSE 'ES403' END
		WHEN 'manage' THEN CASE WHEN k.adm THEN 'ok' ELSE '42501' END
		WHEN 'create' THEN CASE WHEN k.adm OR k.gw THEN 'ES409' ELSE '42501' END
		END AS expected) e
	ORDER BY k.ord, f.ord, t.ord
$cells$);

-- 2. Creating a new tenant: administrators and the gateway (6 tests).
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT k.role, $q$SELECT es_create_tenant('regress-new')$q$ AS sql, e.expected,
		   format('%s (%s): es_create_tenant of a new tenant -> %s', k.kind, k.role, e.expected) AS descr
	FROM regress_pgtap.kinds k
	CROSS JOIN LATERAL (SELECT CASE WHEN k.adm OR k.gw THEN 'ok' ELSE '42501' END AS expected) e
	ORDER BY k.ord
$cells$);

-- 3. es_list_tenants: all tenants for administrators and the gateway, only the
--    granted ones for the others (6 tests).  Unfiltered for non-administrators:
--    any other tenant in the database would show up as a leak.
SELECT is(regress_pgtap.value(k.role, CASE WHEN k.adm OR k.gw THEN
		$q$SELECT coalesce(string_agg(t->>'id', ',' ORDER BY t->>'id'), '') FROM es_list_tenants() t
		   WHERE t->>'id' LIKE 'regress-%'$q$
	ELSE
		$q$SELECT coalesce(string_agg(t->>'id', ',' ORDER BY t->>'id'), '') FROM es_list_tenants() t$q$
	END), e.expected,
	format('%s (%s): es_list_tenants() -> {%s}', k.kind, k.role, e.expected))
FROM regress_pgtap.kinds k
CROSS JOIN LATERAL (SELECT CASE WHEN k.adm OR k.gw THEN 'regress-a,regress-b'
							   WHEN k.a THEN 'regress-a' ELSE '' END AS expected) e
ORDER BY k.ord;

-- 4. Unknown tenant: ES404 only for roles that may act for any tenant; every
--    other role gets ES403, so the check is no existence oracle (18 tests).
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT k.role, f.sql, e.expected,
		   format('%s (%s): %s on unknown tenant -> %s', k.kind, k.role, f.fn, e.expected) AS descr
	FROM regress_pgtap.kinds k
	CROSS JOIN (VALUES
		(1, 'es_get_tenant', $q$SELECT es_get_tenant('regress-zz')$q$),
		(2, 'es_read_log',   $q$SELECT * FROM es_read_log('regress-zz')$q$),
		(3, 'es_append',     $q$SELECT * FROM es_append('regress-zz', 'order-1', NULL, '[{"type":"t","data":{}}]')$q$)
	) AS f(ord, fn, sql)
	CROSS JOIN LATERAL (SELECT CASE WHEN k.adm OR k.gw THEN 'ES404' ELSE 'ES403' END AS expected) e
	ORDER BY k.ord, f.ord
$cells$);

-- 5. Defense in depth: with EXECUTE granted explicitly, the management
--    functions still refuse non-administrators with ES403 (23 tests).
GRANT EXECUTE ON FUNCTION es_create_tenant(text, text, jsonb), es_suspend_tenant(text),
	es_resume_tenant(text), es_delete_tenant(text), es_grant_tenant(name, text),
	es_revoke_tenant(name, text)
	TO regress_gw, regress_ga, regress_none, regress_mem;
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT k.role, format(f.tmpl, 'regress-a') AS sql, 'ES403' AS expected,
		   format('%s (%s) with EXECUTE granted: %s on tenant A -> ES403', k.kind, k.role, f.fn) AS descr
	FROM regress_pgtap.kinds k
	CROSS JOIN regress_pgtap.fns f
	WHERE NOT k.adm AND f.cls = 'manage'
	ORDER BY k.ord, f.ord
$cells$);
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT k.role, $q$SELECT es_create_tenant('regress-new')$q$ AS sql, 'ES403' AS expected,
		   format('%s (%s) with EXECUTE granted: es_create_tenant -> ES403', k.kind, k.role) AS descr
	FROM regress_pgtap.kinds k
	WHERE NOT k.adm AND NOT k.gw
	ORDER BY k.ord
$cells$);

-- 6. Suspended tenant B: reads go on, writes are ES423 for roles that may act
--    for B; the others still get ES403 (not ES423: no status oracle).
SELECT is(regress_pgtap.keep('regress_admin', $q$SELECT es_suspend_tenant('regress-b')->>'status'$q$),
	'suspended', 'es_admin member suspends tenant B');
SELECT is(regress_pgtap.value('regress_gw', $q$SELECT es_get_tenant('regress-b')->>'status'$q$),
	'suspended', 'es_gateway member: es_get_tenant(B) shows status suspended');
SELECT * FROM regress_pgtap.run_cells($cells$
	SELECT k.role, f.sql, e.expected,
		   format('%s (%s): %s on suspended tenant B -> %s', k.kind, k.role, f.fn, e.expected) AS descr
	FROM regress_pgtap.kinds k
	CROSS JOIN (VALUES
		(1, 'es_append',   true,  $q$SELECT * FROM es_append('regress-b', 'order-9', NULL, '[{"type":"t","data":{}}]')$q$),
		(2, 'es_execute',  true,  $q$SELECT es_execute('regress-b', '{"type":"append","stream":"order-9","events":[{"type":"t","data":{}}]}')$q$),
		(3, 'es_read_log', false, $q$SELECT * FROM es_read_log('regress-b')$q$)
	) AS f(ord, fn, write, sql)
	CROSS JOIN LATERAL (SELECT CASE WHEN NOT (k.adm OR k.gw) THEN 'ES403'
									WHEN f.write THEN 'ES423' ELSE 'ok' END AS expected) e
	ORDER BY k.ord, f.ord
$cells$);
SELECT is(regress_pgtap.keep('regress_admin', $q$SELECT es_resume_tenant('regress-b')->>'status'$q$),
	'active', 'es_admin member resumes tenant B');
SELECT is(regress_pgtap.outcome('regress_gw',
	$q$SELECT * FROM es_append('regress-b', 'order-9', NULL, '[{"type":"t","data":{}}]')$q$),
	'ok', 'es_gateway member appends to resumed tenant B');

SELECT * FROM finish();
ROLLBACK;

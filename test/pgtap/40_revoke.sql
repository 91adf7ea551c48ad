-- es_saas isolation: revoking access.
-- es_revoke_tenant withdraws a grant from the role and from its members;
-- other grants (other tenants, direct grants of a member) stay; losing role
-- membership (in a granted role, in es_gateway, in es_admin) loses the access
-- that came with it.  Checked through the es_* functions and, for roles that
-- have not read the tables yet in this transaction, through row-level security.
BEGIN;
SELECT plan(50);

\ir _common.psql
CREATE ROLE regress_mem2 NOLOGIN IN ROLE regress_ga;  -- member of regress_ga, also granted A directly

-- On top of _common.psql's fixture: A and B both granted to regress_ga, one event in B.
DO $$
BEGIN
	PERFORM es_grant_tenant('regress_ga', 'regress-b');
	PERFORM es_grant_tenant('regress_mem2', 'regress-a');
	PERFORM es_append('regress-b', 'order-1', 0, '[{"type":"created","data":{"t":"b"}}]');
END
$$;

-- Outcome of each tenant-level es_* function on p_tenant, as 'fn=outcome ...'.
CREATE FUNCTION regress_pgtap.access(p_role name, p_tenant text) RETURNS text LANGUAGE sql AS $f$
	SELECT string_agg(f.fn || '=' || regress_pgtap.outcome(p_role, pg_catalog.format(f.tmpl, p_tenant)), ' ' ORDER BY f.ord)
	FROM (VALUES
		( 1, 'get_tenant',     $q$SELECT es_get_tenant(%L)$q$),
		( 2, 'append',         $q$SELECT * FROM es_append(%L, 'order-9', NULL, '[{"type":"t","data":{}}]')$q$),
		( 3, 'execute',        $q$SELECT es_execute(%L, '{"type":"append","stream":"order-9","events":[{"type":"t","data":{}}]}')$q$),
		( 4, 'get_command',    $q$SELECT es_get_command(%L, '00000000-0000-4000-8000-000000000000')$q$),
		( 5, 'read_stream',    $q$SELECT * FROM es_read_stream(%L, 'order-1')$q$),
		( 6, 'read_log',       $q$SELECT * FROM es_read_log(%L)$q$),
		( 7, 'read_category',  $q$SELECT * FROM es_read_category(%L, 'order')$q$),
		( 8, 'stream_version', $q$SELECT es_stream_version(%L, 'order-1')$q$),
		( 9, 'query',          $q$SELECT es_query(%L, '{"type":"log"}')$q$)
	) AS f(ord, fn, tmpl)
$f$;
-- The same string with every outcome equal to p_outcome.
CREATE FUNCTION regress_pgtap.all_are(p_outcome text) RETURNS text LANGUAGE sql AS $f$
	SELECT string_agg(fn || '=' || p_outcome, ' ' ORDER BY ord)
	FROM unnest(ARRAY['get_tenant', 'append', 'execute', 'get_command', 'read_stream',
					  'read_log', 'read_category', 'stream_version', 'query']) WITH ORDINALITY AS f(fn, ord)
$f$;
CREATE FUNCTION regress_pgtap.listed(p_role name) RETURNS text LANGUAGE sql AS $f$
	SELECT regress_pgtap.value(p_role,
		$q$SELECT coalesce(string_agg(t->>'id', ',' ORDER BY t->>'id'), '') FROM es_list_tenants() t$q$)
$f$;

-- 1. Before: the grants work (function level only: no table read yet).
SELECT is(regress_pgtap.access('regress_ga', 'regress-a'), regress_pgtap.all_are('ok'), 'before: granted A+B: every function on A allowed');
SELECT is(regress_pgtap.access('regress_ga', 'regress-b'), regress_pgtap.all_are('ok'), 'before: granted A+B: every function on B allowed');
SELECT is(regress_pgtap.access('regress_mem', 'regress-a'), regress_pgtap.all_are('ok'), 'before: member of granted role: every function on A allowed');
SELECT is(regress_pgtap.access('regress_mem', 'regress-b'), regress_pgtap.all_are('ok'), 'before: member of granted role: every function on B allowed');
SELECT is(regress_pgtap.access('regress_mem2', 'regress-a'), regress_pgtap.all_are('ok'), 'before: member + direct grant: every function on A allowed');
SELECT is(regress_pgtap.listed('regress_ga'), 'regress-a,regress-b', 'before: granted A+B lists A and B');
SELECT is(regress_pgtap.listed('regress_mem'), 'regress-a,regress-b', 'before: member of granted role lists A and B');

-- 2. Only administrators may revoke.
SELECT is(regress_pgtap.outcome('regress_ga', $q$SELECT es_revoke_tenant('regress_ga', 'regress-a')$q$), '42501',
	'granted A: may not revoke (even its own grant) -> 42501');
SELECT is(regress_pgtap.outcome('regress_gw', $q$SELECT es_revoke_tenant('regress_ga', 'regress-a')$q$), '42501',
	'es_gateway member: may not revoke -> 42501');
SELECT is(regress_pgtap.outcome('regress_none', $q$SELECT es_revoke_tenant('regress_ga', 'regress-a')$q$), '42501',
	'granted nothing: may not revoke -> 42501');

-- 3. An es_admin member revokes A from regress_ga.
SELECT is(regress_pgtap.keep('regress_admin', $q$SELECT es_revoke_tenant('regress_ga', 'regress-a')::text$q$), '',
	'es_admin member: es_revoke_tenant(regress_ga, A)');
SELECT is(regress_pgtap.access('regress_ga', 'regress-a'), regress_pgtap.all_are('ES403'), 'after revoke: granted role: every function on A -> ES403');
SELECT is(regress_pgtap.access('regress_ga', 'regress-b'), regress_pgtap.all_are('ok'), 'after revoke: granted role: B (other grant) still allowed');
SELECT is(regress_pgtap.access('regress_mem', 'regress-a'), regress_pgtap.all_are('ES403'), 'after revoke: member of the role: every function on A -> ES403');
SELECT is(regress_pgtap.access('regress_mem', 'regress-b'), regress_pgtap.all_are('ok'), 'after revoke: member of the role: B still allowed');
SELECT is(regress_pgtap.access('regress_mem2', 'regress-a'), regress_pgtap.all_are('ok'), 'after revoke: member with its own grant of A: A still allowed');
SELECT is(regress_pgtap.listed('regress_ga'), 'regress-b', 'after revoke: granted role lists B only');
SELECT is(regress_pgtap.listed('regress_mem'), 'regress-b', 'after revoke: member of the role lists B only');
SELECT is(regress_pgtap.listed('regress_mem2'), 'regress-a,regress-b', 'after revoke: member with its own grant lists A and B');
-- row-level security: first table reads of these roles in this transaction
SELECT is(regress_pgtap.visible('regress_ga', 'regress-a', 'events'), 'none', 'after revoke: granted role, es_saas.tenant = A: no event');
SELECT is(regress_pgtap.visible('regress_ga', 'regress-a', 'tenants'), 'none', 'after revoke: granted role, es_saas.tenant = A: no tenant row');
SELECT is(regress_pgtap.visible('regress_ga', 'regress-b', 'events'), 'regress-b:1', 'after revoke: granted role, es_saas.tenant = B: B''s event');
SELECT is(regress_pgtap.visible('regress_mem', 'regress-a', 'events'), 'none', 'after revoke: member, es_saas.tenant = A: no event');
SELECT is(regress_pgtap.visible('regress_mem2', 'regress-a', 'events'), 'regress-a:2', 'after revoke: member with own grant, es_saas.tenant = A: A''s events');
SELECT is(regress_pgtap.value(NULL, $q$SELECT count(*) FROM es_saas.tenant_grants WHERE tenant_id = 'regress-a' AND role = 'regress_ga'$q$),
	'0', 'after revoke: the grant row is gone');
SELECT is(regress_pgtap.value(NULL, $q$SELECT count(*) FROM es_saas.events WHERE tenant_id = 'regress-a'$q$),
	'2', 'after revoke: A''s events are untouched');

-- 4. Granting again restores access.
SELECT is(regress_pgtap.keep('regress_admin', $q$SELECT es_grant_tenant('regress_ga', 'regress-a')::text$q$), '',
	'es_admin member: es_grant_tenant(regress_ga, A) again');
SELECT is(regress_pgtap.access('regress_ga', 'regress-a'), regress_pgtap.all_are('ok'), 'granted again: every function on A allowed');
SELECT is(regress_pgtap.access('regress_mem', 'regress-a'), regress_pgtap.all_are('ok'), 'granted again: member: every function on A allowed');

-- 5. Losing membership in the granted role loses the access that came with it.
REVOKE regress_ga FROM regress_mem;
SELECT is(regress_pgtap.access('regress_mem', 'regress-a'), regress_pgtap.all_are('ES403'), 'membership revoked: every function on A -> ES403');
SELECT is(regress_pgtap.access('regress_mem', 'regress-b'), regress_pgtap.all_are('ES403'), 'membership revoked: every function on B -> ES403');
SELECT is(regress_pgtap.listed('regress_mem'), '', 'membership revoked: es_list_tenants() is empty');
SELECT is(regress_pgtap.access('regress_ga', 'regress-a'), regress_pgtap.all_are('ok'), 'membership revoked: the granted role itself keeps A');

-- 6. A NOINHERIT member does not use the granted role's access.
CREATE ROLE regress_noinherit NOLOGIN NOINHERIT IN ROLE regress_ga;
SELECT is(regress_pgtap.access('regress_noinherit', 'regress-a'), regress_pgtap.all_are('ES403'), 'NOINHERIT member of granted role: every function on A -> ES403');
SELECT is(regress_pgtap.visible('regress_noinherit', 'regress-a', 'events'), 'none', 'NOINHERIT member of granted role, es_saas.tenant = A: no event');

-- 7. Losing es_gateway / es_admin membership loses the any-tenant access.
SELECT is(regress_pgtap.access('regress_gw', 'regress-b'), regress_pgtap.all_are('ok'), 'es_gateway member: every function on B allowed');
SELECT is(regress_pgtap.access('regress_admin', 'regress-b'), regress_pgtap.all_are('ok'), 'es_admin member: every function on B allowed');
REVOKE es_gateway FROM regress_gw;
REVOKE es_admin FROM regress_admin;
SELECT is(regress_pgtap.access('regress_gw', 'regress-b'), regress_pgtap.all_are('ES403'), 'former es_gateway member: every function on B -> ES403');
SELECT is(regress_pgtap.access('regress_admin', 'regress-b'), regress_pgtap.all_are('ES403'), 'former es_admin member: every function on B -> ES403');
SELECT is(regress_pgtap.listed('regress_gw'), '', 'former es_gateway member: es_list_tenants() is empty');
SELECT is(regress_pgtap.listed('regress_admin'), '', 'former es_admin member: es_list_tenants() is empty');
SELECT is(regress_pgtap.visible('regress_gw', 'regress-b', 'events'), 'none', 'former es_gateway member, es_saas.tenant = B: no event');
SELECT is(regress_pgtap.visible('regress_admin', 'regress-b', 'events'), 'none', 'former es_admin member, es_saas.tenant = B: no event');
SELECT is(regress_pgtap.outcome('regress_admin', $q$SELECT es_suspend_tenant('regress-b')$q$), '42501',
	'former es_admin member: es_suspend_tenant -> 42501');
SELECT is(regress_pgtap.outcome('regress_gw', $q$SELECT es_create_tenant('regress-new')$q$), '42501',
	'former es_gateway member: es_create_tenant -> 42501');

-- 8. Revoking from a role that was never granted, or a tenant it was not
--    granted, changes nothing for others.
SELECT is(regress_pgtap.keep('regress_su', $q$SELECT es_revoke_tenant('regress_none', 'regress-a')::text$q$), '',
	'superuser: es_revoke_tenant of a grant that does not exist succeeds');
SELECT is(regress_pgtap.access('regress_ga', 'regress-a'), regress_pgtap.all_are('ok'), '... and regress_ga keeps A');
SELECT is(regress_pgtap.outcome('regress_su', $q$SELECT es_revoke_tenant('regress_ga', 'regress-zz')$q$), 'ES404',
	'superuser: es_revoke_tenant on an unknown tenant -> ES404');
SELECT is(regress_pgtap.outcome('regress_su', $q$SELECT es_revoke_tenant('regress_nonexistent_role', 'regress-a')$q$), 'ES404',
	'superuser: es_revoke_tenant of an unknown role -> ES404');
SELECT is(regress_pgtap.outcome('regress_su', $q$SELECT es_grant_tenant('regress_ga', 'regress-zz')$q$), 'ES404',
	'superuser: es_grant_tenant on an unknown tenant -> ES404');

SELECT * FROM finish();
ROLLBACK;

-- es_saas isolation: the lifecycle of grants.  Row-level security sees a
-- withdrawn grant at the next statement (es_saas.current_tenant() caches per
-- statement only), and grants, kept by role name (portable through dump and
-- restore and across nodes), never pass to a new role of the same name: a
-- role holding grants cannot be dropped (a shared dependency, as for table
-- privileges), DROP OWNED BY revokes them, and they follow a renamed role.
BEGIN;
SELECT plan(20);

\ir _common.psql

-- On top of _common.psql's fixture: A and B both granted to regress_ga, one event in B.
DO $$
BEGIN
	PERFORM es_grant_tenant('regress_ga', 'regress-b');
	PERFORM es_append('regress-b', 'order-1', 0, '[{"type":"created","data":{"t":"b"}}]');
END
$$;

-- grants: row-level security keeps a revoked access for the rest of the
-- transaction.  es_saas.current_tenant() (extension/tenant.c) caches "may the
-- current role act for es_saas.tenant" per (local transaction id, role,
-- setting) in static variables and never invalidates the entry: after
-- es_revoke_tenant, REVOKE <role> FROM <member>, or ROLLBACK TO SAVEPOINT of a
-- grant, the same role with the same setting still sees the tenant's rows
-- through es_saas.events/tenants/commands until the transaction ends, while
-- every es_* function already answers ES403 (es_check_tenant does not cache).
-- In READ COMMITTED the same holds for a revoke committed by another session
-- during a long transaction.  Fix: drop the cache, or key it on something that
-- changes with grants (e.g. invalidate on tenant_grants changes and on
-- pg_auth_members syscache invalidation, and on subtransaction abort).

-- 1a. es_revoke_tenant in the same transaction.
SELECT is(regress_pgtap.visible('regress_ga', 'regress-a', 'events'), 'regress-a:2',
	'control: granted A, es_saas.tenant = A: A''s 2 events');
SELECT is(regress_pgtap.keep('regress_admin', $q$SELECT es_revoke_tenant('regress_ga', 'regress-a')::text$q$), '',
	'control: es_admin member revokes A from regress_ga');
SELECT is(regress_pgtap.outcome('regress_ga', $q$SELECT * FROM es_read_log('regress-a')$q$), 'ES403',
	'control: revoked: es_read_log(A) -> ES403');
SELECT is(regress_pgtap.visible('regress_ga', 'regress-a', 'events'), 'none',
	'grants: revoked in this transaction: SELECT es_saas.events with es_saas.tenant = A shows no row');
SELECT is(regress_pgtap.value('regress_ga', $q$SELECT es_saas.current_tenant()$q$, 'regress-a'), '<null>',
	'grants: revoked in this transaction: es_saas.current_tenant() is NULL for A');

-- 1b. Membership in the granted role revoked in the same transaction.
SELECT is(regress_pgtap.visible('regress_mem', 'regress-b', 'events'), 'regress-b:1',
	'control: member of a role granted B, es_saas.tenant = B: B''s event');
REVOKE regress_ga FROM regress_mem;
SELECT is(regress_pgtap.outcome('regress_mem', $q$SELECT * FROM es_read_log('regress-b')$q$), 'ES403',
	'control: membership revoked: es_read_log(B) -> ES403');
SELECT is(regress_pgtap.visible('regress_mem', 'regress-b', 'events'), 'none',
	'grants: membership revoked in this transaction: SELECT es_saas.events with es_saas.tenant = B shows no row');

-- 1c. A grant rolled back with its savepoint (no test runs inside the savepoint).
SAVEPOINT regress_grant;
DO $$
BEGIN
	PERFORM es_grant_tenant('regress_none', 'regress-a');
	PERFORM regress_pgtap.visible('regress_none', 'regress-a', 'events');  -- reads while granted
END
$$;
ROLLBACK TO SAVEPOINT regress_grant;
SELECT is(regress_pgtap.outcome('regress_none', $q$SELECT * FROM es_read_log('regress-a')$q$), 'ES403',
	'control: grant rolled back: es_read_log(A) -> ES403');
SELECT is(regress_pgtap.visible('regress_none', 'regress-a', 'events'), 'none',
	'grants: grant rolled back to a savepoint: SELECT es_saas.events with es_saas.tenant = A shows no row');

-- grants: stored by role name (tenant_grants.role), bound to the role by one
-- pg_shdepend row per granted role (extension/role_sync.c).

-- 2a. DROP ROLE of a granted role is refused; DROP OWNED BY revokes the
-- grants, then the role can go, and a new role of that name gets nothing.
CREATE ROLE regress_old NOLOGIN;
SELECT is(regress_pgtap.keep('regress_admin', $q$SELECT es_grant_tenant('regress_old', 'regress-a')::text$q$), '',
	'control: es_admin member grants A to regress_old');
SELECT is(regress_pgtap.value(NULL, $q$SELECT count(*) FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid WHERE r.rolname = 'regress_old' AND d.objid = 'es_saas.tenant_grants'::regclass AND d.deptype = 'a'$q$), '1',
	'grants: a granted role has one shared dependency on es_saas.tenant_grants');
SELECT throws_ok('DROP ROLE regress_old', '2BP01', NULL,
	'grants: DROP ROLE of a role holding a tenant grant is refused (2BP01)');
DROP OWNED BY regress_old;
SELECT lives_ok('DROP ROLE regress_old', 'grants: after DROP OWNED BY the role can be dropped');
SELECT is(regress_pgtap.value(NULL, $q$SELECT count(*) FROM es_saas.tenant_grants WHERE role = 'regress_old'$q$), '0',
	'grants: DROP OWNED BY revoked the role''s tenant grants');
CREATE ROLE regress_old NOLOGIN;  -- a new role that was never granted anything
SELECT is(regress_pgtap.outcome('regress_old', $q$SELECT * FROM es_read_log('regress-a')$q$), 'ES403',
	'grants: a new role with a dropped role''s name: es_read_log(A) -> ES403');
SELECT is(regress_pgtap.value('regress_old', $q$SELECT count(*) FROM es_list_tenants()$q$), '0',
	'grants: a new role with a dropped role''s name: es_list_tenants() is empty');
SELECT is(regress_pgtap.visible('regress_old', 'regress-a', 'events'), 'none',
	'grants: a new role with a dropped role''s name: SELECT es_saas.events with es_saas.tenant = A shows no row');

-- 2b. ALTER ROLE ... RENAME: the grant follows the name, not the role.
CREATE ROLE regress_ren NOLOGIN;
DO $$ BEGIN PERFORM es_grant_tenant('regress_ren', 'regress-b'); END $$;
ALTER ROLE regress_ren RENAME TO regress_ren2;
CREATE ROLE regress_ren NOLOGIN;  -- a new role that takes the old name
SELECT is(regress_pgtap.outcome('regress_ren', $q$SELECT * FROM es_read_log('regress-b')$q$), 'ES403',
	'grants: a new role that takes a renamed role''s old name: es_read_log(B) -> ES403');
SELECT is(regress_pgtap.outcome('regress_ren2', $q$SELECT * FROM es_read_log('regress-b')$q$), 'ok',
	'grants: the granted role, renamed, still acts for B');

SELECT * FROM finish();
ROLLBACK;

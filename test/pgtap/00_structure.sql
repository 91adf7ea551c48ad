-- es_saas isolation: structural facts (catalog checks, no data).
-- Contract section 3 "Isolation": row-level security forced on every table,
-- no trusted install, no LEAKPROOF, SECURITY DEFINER only with a search_path,
-- writes only through the es_* functions.
BEGIN;
SELECT plan(43);

CREATE ROLE regress_nobody NOLOGIN;

-- Relations to check: every table of schema es_saas and every table that
-- belongs to the extension, wherever it lives.
CREATE TEMP VIEW regress_ext_rel AS
	SELECT c.oid, c.relname, c.relkind, c.relnamespace::regnamespace AS nsp,
		   c.relrowsecurity, c.relforcerowsecurity, c.relowner, c.reloptions
	FROM pg_class c
	WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
	  AND (c.relnamespace = 'es_saas'::regnamespace
		   OR EXISTS (SELECT FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
					  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
						AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
						AND e.extname = 'es_saas'));
CREATE TEMP VIEW regress_ext_proc AS
	SELECT p.oid, p.oid::regprocedure AS sig, p.prosecdef, p.proleakproof, p.proconfig
	FROM pg_proc p
	JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
	 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'es_saas';

-- Tables and row-level security ----------------------------------------------
SELECT has_table('es_saas', 'tenants', 'table es_saas.tenants exists');
SELECT has_table('es_saas', 'tenant_grants', 'table es_saas.tenant_grants exists');
SELECT has_table('es_saas', 'events', 'table es_saas.events exists');
SELECT has_table('es_saas', 'commands', 'table es_saas.commands exists');

SELECT is_empty($$SELECT nsp || '.' || relname FROM regress_ext_rel
				  WHERE relkind IN ('r', 'p') AND NOT relrowsecurity$$,
	'every table of es_saas / of the extension has row-level security enabled (relrowsecurity)');
SELECT is_empty($$SELECT nsp || '.' || relname FROM regress_ext_rel
				  WHERE relkind IN ('r', 'p') AND NOT relforcerowsecurity$$,
	'every table of es_saas / of the extension forces row-level security (relforcerowsecurity)');
SELECT is_empty($$SELECT nsp || '.' || relname FROM regress_ext_rel r
				  WHERE relkind IN ('r', 'p')
					AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = r.oid)$$,
	'every table of es_saas / of the extension has a row-level security policy');
SELECT is_empty($$SELECT schemaname || '.' || tablename || ' ' || policyname FROM pg_policies
				  WHERE schemaname = 'es_saas'
					AND EXISTS (SELECT FROM pg_attribute a
								WHERE a.attrelid = format('%I.%I', schemaname, tablename)::regclass
								  AND a.attname = 'tenant_id' AND NOT a.attisdropped)
					AND (qual IS NULL OR qual NOT LIKE '%es_saas.current_tenant()%'
						 OR (with_check IS NOT NULL AND with_check NOT LIKE '%es_saas.current_tenant()%'))$$,
	'every policy on an es_saas table with a tenant_id column filters on es_saas.current_tenant()');
SELECT is_empty($$SELECT schemaname || '.' || tablename || ' ' || policyname FROM pg_policies
				  WHERE schemaname = 'es_saas' AND permissive <> 'PERMISSIVE'$$,
	'no RESTRICTIVE-only policy (a restrictive policy alone would show nothing, hiding a missing permissive one)');
SELECT is_empty($$SELECT nsp || '.' || relname FROM regress_ext_rel
				  WHERE relkind IN ('r', 'p') AND NOT pg_catalog.pg_get_userbyid(relowner) IN
					(SELECT rolname FROM pg_roles WHERE rolsuper)$$,
	'every table of the extension is owned by a superuser (the es_* functions switch to that owner)');
SELECT is_empty($$SELECT nsp || '.' || relname FROM regress_ext_rel
				  WHERE relkind = 'v'
					AND NOT coalesce('security_invoker=true' = ANY (reloptions)
									 OR 'security_invoker=on' = ANY (reloptions), false)$$,
	'every view of the extension (if any) is security_invoker (else it reads as its superuser owner, past RLS)');
SELECT is_empty($$SELECT nsp || '.' || relname FROM regress_ext_rel WHERE relkind = 'm'$$,
	'the extension creates no materialized view (they cannot have row-level security)');

-- Table privileges -------------------------------------------------------------
SELECT is_empty($$SELECT r.relname || ' ' || pg_get_userbyid(a.grantee) || ' ' || a.privilege_type
				  FROM regress_ext_rel r, aclexplode(coalesce((SELECT relacl FROM pg_class WHERE oid = r.oid),
															   acldefault('r', r.relowner))) a
				  WHERE r.relkind IN ('r', 'p', 'v', 'f') AND a.grantee <> r.relowner
					AND a.privilege_type <> 'SELECT'$$,
	'no role but the owner holds INSERT/UPDATE/DELETE/TRUNCATE/REFERENCES/TRIGGER on any table of the extension');
SELECT ok(has_table_privilege('regress_nobody', 'es_saas.tenants', 'SELECT'),
	'PUBLIC may SELECT es_saas.tenants (rows filtered by RLS)');
SELECT ok(has_table_privilege('regress_nobody', 'es_saas.events', 'SELECT'),
	'PUBLIC may SELECT es_saas.events (rows filtered by RLS)');
SELECT ok(has_table_privilege('regress_nobody', 'es_saas.commands', 'SELECT'),
	'PUBLIC may SELECT es_saas.commands (rows filtered by RLS)');
SELECT ok(NOT has_table_privilege('regress_nobody', 'es_saas.tenant_grants', 'SELECT'),
	'PUBLIC may not SELECT es_saas.tenant_grants');
SELECT ok(NOT has_table_privilege('es_gateway', 'es_saas.tenant_grants', 'SELECT')
		  AND NOT has_table_privilege('es_admin', 'es_saas.tenant_grants', 'SELECT'),
	'es_gateway and es_admin may not SELECT es_saas.tenant_grants directly');
SELECT ok(NOT has_schema_privilege('regress_nobody', 'es_saas', 'CREATE'),
	'PUBLIC may not CREATE in schema es_saas');
SELECT ok(NOT has_schema_privilege('es_gateway', 'es_saas', 'CREATE')
		  AND NOT has_schema_privilege('es_admin', 'es_saas', 'CREATE'),
	'es_gateway and es_admin may not CREATE in schema es_saas');

-- Roles of the extension --------------------------------------------------------
SELECT is((SELECT rolsuper OR rolbypassrls OR rolcanlogin FROM pg_roles WHERE rolname = 'es_admin'),
	false, 'es_admin is NOLOGIN, not superuser, no BYPASSRLS');
SELECT is((SELECT rolsuper OR rolbypassrls OR rolcanlogin FROM pg_roles WHERE rolname = 'es_gateway'),
	false, 'es_gateway is NOLOGIN, not superuser, no BYPASSRLS');

-- Extension control ---------------------------------------------------------------
SELECT is((SELECT trusted FROM pg_available_extension_versions
		   WHERE name = 'es_saas'
			 AND version = (SELECT extversion FROM pg_extension WHERE extname = 'es_saas')),
	false, 'installed version of es_saas is not trusted (pg_available_extension_versions.trusted)');
SELECT is((SELECT superuser FROM pg_available_extension_versions
		   WHERE name = 'es_saas'
			 AND version = (SELECT extversion FROM pg_extension WHERE extname = 'es_saas')),
	true, 'installed version of es_saas requires a superuser (pg_available_extension_versions.superuser)');
SELECT is_empty($$SELECT version FROM pg_available_extension_versions
				  WHERE name = 'es_saas' AND (trusted OR NOT superuser)$$,
	'no available version of es_saas is trusted or installable by non-superusers');

-- Functions -----------------------------------------------------------------------
SELECT cmp_ok((SELECT count(*)::int FROM regress_ext_proc), '>=', 18,
	'the extension owns its 16 es_* functions and 2 internal ones (at least)');
SELECT is_empty($$SELECT sig::text FROM regress_ext_proc WHERE proleakproof$$,
	'no function of the extension is LEAKPROOF');
SELECT is_empty($$SELECT sig::text FROM regress_ext_proc
				  WHERE prosecdef AND NOT EXISTS
					(SELECT FROM unnest(coalesce(proconfig, '{}')) c WHERE c LIKE 'search_path=%')$$,
	'every SECURITY DEFINER function of the extension (if any) sets search_path (proconfig)');
SELECT is_empty($$SELECT sig::text FROM regress_ext_proc
				  WHERE prosecdef AND EXISTS
					(SELECT FROM unnest(proconfig) c
					 WHERE c LIKE 'search_path=%' AND c NOT LIKE '%pg_temp'
					   AND NOT (c ~ '^search_path=("")?$'))$$,
	'every SECURITY DEFINER search_path (if any) is empty or ends with pg_temp');
SELECT is((SELECT prosecdef OR proleakproof FROM pg_proc
		   WHERE oid = 'es_saas.current_tenant()'::regprocedure),
	false, 'es_saas.current_tenant() (the RLS function) is neither SECURITY DEFINER nor LEAKPROOF');
SELECT ok(NOT has_function_privilege('regress_nobody', 'es_saas.events_immutable()', 'EXECUTE'),
	'PUBLIC may not EXECUTE es_saas.events_immutable()');

-- EXECUTE grants narrow the tenant management surface (the C checks are the rule).
SELECT is(
	(SELECT string_agg(f, ',' ORDER BY f) FROM unnest(ARRAY[
		'es_create_tenant(text,text,jsonb)', 'es_suspend_tenant(text)', 'es_resume_tenant(text)',
		'es_delete_tenant(text)', 'es_grant_tenant(name,text)', 'es_revoke_tenant(name,text)']) f
	 WHERE has_function_privilege('regress_nobody', f, 'EXECUTE')),
	NULL, 'PUBLIC may not EXECUTE es_create/suspend/resume/delete/grant/revoke_tenant');
SELECT is(
	(SELECT string_agg(f, ',' ORDER BY f) FROM unnest(ARRAY[
		'es_create_tenant(text,text,jsonb)', 'es_suspend_tenant(text)', 'es_resume_tenant(text)',
		'es_delete_tenant(text)', 'es_grant_tenant(name,text)', 'es_revoke_tenant(name,text)']) f
	 WHERE has_function_privilege('es_gateway', f, 'EXECUTE')),
	'es_create_tenant(text,text,jsonb)', 'es_gateway may EXECUTE es_create_tenant only, of the management functions');
SELECT is(
	(SELECT count(*)::int FROM unnest(ARRAY[
		'es_create_tenant(text,text,jsonb)', 'es_suspend_tenant(text)', 'es_resume_tenant(text)',
		'es_delete_tenant(text)', 'es_grant_tenant(name,text)', 'es_revoke_tenant(name,text)']) f
	 WHERE has_function_privilege('es_admin', f, 'EXECUTE')),
	6, 'es_admin may EXECUTE every management function');
SELECT is(
	(SELECT string_agg(f, ',' ORDER BY f) FROM unnest(ARRAY[
		'es_get_tenant(text)', 'es_list_tenants()', 'es_append(text,text,bigint,jsonb)',
		'es_execute(text,jsonb)', 'es_get_command(text,uuid)',
		'es_read_stream(text,text,bigint,integer)', 'es_read_log(text,bigint,integer)',
		'es_read_category(text,text,bigint,integer)', 'es_stream_version(text,text)',
		'es_query(text,jsonb)']) f
	 WHERE NOT has_function_privilege('regress_nobody', f, 'EXECUTE')),
	NULL, 'tenant-level es_* functions are executable by PUBLIC (they check the tenant themselves)');

-- Immutability of events ------------------------------------------------------------
SELECT has_trigger('es_saas', 'events', 'events_immutable', 'events has trigger events_immutable');
SELECT has_trigger('es_saas', 'events', 'events_no_truncate', 'events has trigger events_no_truncate');
SELECT is((SELECT tgenabled::text FROM pg_trigger
		   WHERE tgrelid = 'es_saas.events'::regclass AND tgname = 'events_immutable'),
	'A', 'events_immutable is ENABLE ALWAYS (fires with session_replication_role = replica)');
SELECT is((SELECT tgenabled::text FROM pg_trigger
		   WHERE tgrelid = 'es_saas.events'::regclass AND tgname = 'events_no_truncate'),
	'A', 'events_no_truncate is ENABLE ALWAYS');
SELECT is((SELECT (tgtype & 2 <> 0) AND (tgtype & 1 <> 0) AND (tgtype & 24 = 24) FROM pg_trigger
		   WHERE tgrelid = 'es_saas.events'::regclass AND tgname = 'events_immutable'),
	true, 'events_immutable fires BEFORE UPDATE OR DELETE FOR EACH ROW');
SELECT is((SELECT (tgtype & 2 <> 0) AND (tgtype & 32 <> 0) FROM pg_trigger
		   WHERE tgrelid = 'es_saas.events'::regclass AND tgname = 'events_no_truncate'),
	true, 'events_no_truncate fires BEFORE TRUNCATE');

-- The RLS function with nothing established ------------------------------------------
SELECT is(es_saas.current_tenant(), NULL, 'es_saas.current_tenant() is NULL when es_saas.tenant is unset');
SELECT is((SELECT pg_catalog.set_config('es_saas.tenant', 'regress-a', true) IS NOT NULL
		   AND es_saas.current_tenant() = 'regress-a'), true,
	'es_saas.current_tenant() returns the setting for a superuser');

SELECT * FROM finish();
ROLLBACK;

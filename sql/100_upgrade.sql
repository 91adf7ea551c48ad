-- The upgrade path: install 1.0, store data, ALTER EXTENSION UPDATE to 1.1,
-- and the data and the new runtime work together.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
DROP EXTENSION es_saas;
CREATE EXTENSION es_saas VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'es_saas';
SELECT count(*) AS runtime_functions FROM pg_proc WHERE proname IN ('es_register_aggregate', 'es_doc_put');
SELECT es_create_tenant('up') ->> 'id' AS id;
SELECT es_grant_tenant('regress_user_a', 'up');
SELECT version, position FROM es_append('up', 'counter-1', 0, '[{"type": "Inc", "data": {"by": 2}}, {"type": "Inc", "data": {"by": 3}}]');

ALTER EXTENSION es_saas UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'es_saas';
SELECT count(*) AS runtime_functions FROM pg_proc WHERE proname IN ('es_register_aggregate', 'es_doc_put');
-- every table of 1.1 has forced row-level security and is dumped
SELECT count(*) FILTER (WHERE NOT (relrowsecurity AND relforcerowsecurity)) AS unprotected,
       count(*) AS tables
FROM pg_class WHERE relnamespace = 'es_saas'::regnamespace AND relkind = 'r';
SELECT cardinality(extconfig) AS dumped_tables FROM pg_extension WHERE extname = 'es_saas';

-- the 1.0 data works with the 1.1 runtime
CREATE FUNCTION regress_counter_evolve(state jsonb, event jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_object('total', (state ->> 'total')::int + (event -> 'data' ->> 'by')::int) $$;
CREATE FUNCTION regress_counter_decide(state jsonb, command jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_array(jsonb_build_object('type', 'Inc', 'data', jsonb_build_object('by', command -> 'by'))) $$;
SELECT es_register_aggregate('counter', 'regress_counter_evolve(jsonb,jsonb)', '{"total": 0}');
SELECT es_register_command('inc', 'regress_counter_decide(jsonb,jsonb)');
SET ROLE regress_user_a;
SELECT es_execute('up', '{"type": "inc", "stream": "counter-1", "by": 5}') ->> 'version' AS version;
SELECT es_query('up', '{"type": "state", "stream": "counter-1"}');
RESET ROLE;

-- 1.2: grants by role name; a grant of a role dropped under 1.1 (its oid
-- matched nobody) is gone; the others are bound to their role again.
CREATE ROLE regress_upgrade_gone NOLOGIN;
SELECT es_grant_tenant('regress_upgrade_gone', 'up');
DROP ROLE regress_upgrade_gone;  -- 1.1: grants by oid hold no dependency
SELECT count(*) AS grants_before FROM es_saas.tenant_grants WHERE tenant_id = 'up';
ALTER EXTENSION es_saas UPDATE TO '1.2';
SELECT extversion FROM pg_extension WHERE extname = 'es_saas';
SELECT format_type(atttypid, atttypmod) AS role_column FROM pg_attribute
WHERE attrelid = 'es_saas.tenant_grants'::regclass AND attname = 'role';
SELECT tenant_id, role FROM es_saas.tenant_grants WHERE tenant_id = 'up' ORDER BY role;
SELECT count(*) AS bindings FROM pg_shdepend
WHERE objid = 'es_saas.tenant_grants'::regclass AND refobjid = 'regress_user_a'::regrole;
SET ROLE regress_user_a;
SELECT es_execute('up', '{"type": "inc", "stream": "counter-1", "by": 1}') ->> 'version' AS version;
SELECT t ->> 'id' AS id FROM es_list_tenants() t WHERE t ->> 'id' = 'up';
RESET ROLE;
-- the RLS tenant is a sub-select in every policy (evaluated once per query)
SELECT count(*) FILTER (WHERE qual LIKE '%( SELECT es_saas.current_tenant()%') AS once_per_query,
       count(*) AS policies
FROM pg_policies WHERE schemaname = 'es_saas' AND policyname = 'tenant_isolation';
SELECT es_delete_tenant('up') ->> 'events_deleted' AS events_deleted;
SELECT es_unregister('command', 'inc');
SELECT es_unregister('aggregate', 'counter');
DROP FUNCTION regress_counter_evolve(jsonb, jsonb);
DROP FUNCTION regress_counter_decide(jsonb, jsonb);

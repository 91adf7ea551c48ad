-- Registered queries: es_query runs the function as the caller, inside the
-- tenant (row-level security shows only the tenant's rows); params checks.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all

-- two events in query-bank (granted to regress_user_a), three in query-other
SELECT es_create_tenant('query-bank') ->> 'id' AS id;
SELECT es_create_tenant('query-other') ->> 'id' AS id;
SELECT es_grant_tenant('regress_user_a', 'query-bank');
SELECT version FROM es_append('query-bank', 'account-1', NULL, '[{"type": "Opened", "data": {}}, {"type": "Deposited", "data": {"amount": 1}}]');
SELECT version FROM es_append('query-other', 'account-1', NULL, '[{"type": "Opened", "data": {}}, {"type": "Deposited", "data": {"amount": 1}}, {"type": "Deposited", "data": {"amount": 2}}]');

-- registered queries run as the caller, inside the tenant
CREATE FUNCTION regress_count_events(tenant text, params jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('tenant', tenant,
		'visible_rows', (SELECT count(*) FROM es_saas.events),
		'min', params -> 'min')
$$;
SELECT es_register_query('count_events', 'regress_count_events(text,jsonb)');
SET ROLE regress_user_a;
SELECT es_query('query-bank', '{"type": "count_events", "params": {"min": 1}}') AS as_granted_role;
RESET ROLE;
SELECT regress_try($$SELECT es_query('query-bank', '{"type": "count_events", "params": [1]}')$$);
SELECT regress_try($$SELECT es_query('query-bank', '{"type": "nobody_registered_this"}')$$);

-- clean up the registry
SELECT es_unregister('query', 'count_events');
DROP FUNCTION regress_count_events(text, jsonb);

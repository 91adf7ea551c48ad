-- Tenant lifecycle and grants.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
SELECT es_create_tenant('acme', 'Acme Inc.', '{"plan": "pro"}') - 'created_at' AS tenant;
SELECT es_create_tenant('globex') - 'created_at' AS tenant;
SELECT es_create_tenant('initech.eu_1-x') ->> 'id' AS id;

-- errors
SELECT regress_try($$SELECT es_create_tenant('acme')$$);
SELECT regress_try($$SELECT es_create_tenant('bad tenant')$$);
SELECT regress_try($$SELECT es_create_tenant('-leading-dash')$$);
SELECT regress_try($$SELECT es_create_tenant(repeat('a', 64))$$);
SELECT regress_try($$SELECT es_create_tenant(repeat('a', 63))$$);
SELECT regress_try($$SELECT es_create_tenant('émile')$$);
SELECT regress_try($$SELECT es_create_tenant(NULL)$$);
SELECT regress_try($$SELECT es_create_tenant('x1', NULL, '[1]')$$);
SELECT regress_try($$SELECT es_get_tenant('nope')$$);
SELECT regress_try($$SELECT es_get_tenant(NULL)$$);

SELECT es_get_tenant('acme') - 'created_at' AS tenant;
-- (this file's tenants: the list shows every tenant of the database)
SELECT t ->> 'id' AS id, t ->> 'status' AS status FROM es_list_tenants() t
WHERE t ->> 'id' IN ('acme', 'globex', 'initech.eu_1-x', repeat('a', 63));

-- suspend: reads go on, writes are ES423
SELECT es_suspend_tenant('globex') ->> 'status' AS status;
SELECT regress_try($$SELECT * FROM es_append('globex', 's-1', NULL, '[{"type":"A","data":1}]')$$);
SELECT regress_try($$SELECT es_execute('globex', '{"type":"append","stream":"s-1","events":[{"type":"A","data":1}]}')$$);
SELECT count(*) FROM es_read_log('globex');
SELECT es_stream_version('globex', 's-1');
SELECT es_resume_tenant('globex') ->> 'status' AS status;
SELECT version, position FROM es_append('globex', 's-1', NULL, '[{"type":"A","data":1}]');
SELECT regress_try($$SELECT es_suspend_tenant('nope')$$);
SELECT regress_try($$SELECT es_resume_tenant('nope')$$);

-- grants
SELECT es_grant_tenant('regress_user_a', 'acme');
SELECT es_grant_tenant('regress_user_a', 'acme');  -- twice is fine
SELECT regress_try($$SELECT es_grant_tenant('regress_no_such_role', 'acme')$$);
SELECT regress_try($$SELECT es_grant_tenant('regress_user_a', 'nope')$$);
SELECT regress_try($$SELECT es_grant_tenant(NULL, 'acme')$$);

-- who may do what (the full matrix is in test/pgtap)
SET ROLE regress_user_a;
SELECT es_get_tenant('acme') ->> 'id' AS own_tenant;
-- of this file's tenants, only the granted one (other files grant this role theirs)
SELECT t ->> 'id' AS id FROM es_list_tenants() t
WHERE t ->> 'id' IN ('acme', 'globex', 'initech.eu_1-x', repeat('a', 63));
SELECT regress_try($$SELECT es_get_tenant('globex')$$);
SELECT regress_try($$SELECT es_get_tenant('nope')$$);    -- ES403, not ES404: no oracle
SELECT regress_try($$SELECT es_create_tenant('x2')$$);
SELECT version FROM es_append('acme', 'order-1', 0, '[{"type":"Created","data":{}}]');
SELECT regress_try($$SELECT * FROM es_append('globex', 'order-1', NULL, '[{"type":"A","data":1}]')$$);
RESET ROLE;

SET ROLE regress_nobody;
SELECT count(*) FROM es_list_tenants();
SELECT regress_try($$SELECT es_read_log('acme')$$);
SELECT regress_try($$SELECT es_suspend_tenant('acme')$$);
RESET ROLE;

SET ROLE regress_gateway;
SELECT es_create_tenant('via-gateway') ->> 'id' AS created;
SELECT count(*) > 0 AS reads_any FROM es_read_log('acme');
SELECT regress_try($$SELECT es_suspend_tenant('acme')$$);
SELECT regress_try($$SELECT es_grant_tenant('regress_nobody', 'acme')$$);
RESET ROLE;

SET ROLE regress_admin;
SELECT es_suspend_tenant('via-gateway') ->> 'status' AS status;
SELECT es_delete_tenant('via-gateway');
RESET ROLE;

SELECT es_revoke_tenant('regress_user_a', 'acme');
SET ROLE regress_user_a;
SELECT regress_try($$SELECT es_get_tenant('acme')$$);
RESET ROLE;
SELECT es_grant_tenant('regress_user_a', 'acme');

-- delete erases the tenant and only that tenant
SELECT es_create_tenant('doomed') ->> 'id' AS id;
SELECT version FROM es_append('doomed', 'order-1', NULL, '[{"type":"A","data":1},{"type":"B","data":2}]');
SELECT es_execute('doomed', '{"type":"append","stream":"x-1","id":"4d9c2f9e-9d59-4f0e-9a40-8ab1e9c1d001","events":[{"type":"A","data":1}]}') ->> 'version' AS v;
SELECT es_grant_tenant('regress_nobody', 'doomed');
SELECT count(*) AS acme_events_before FROM es_read_log('acme');
SELECT es_delete_tenant('doomed');
SELECT regress_try($$SELECT es_get_tenant('doomed')$$);
SELECT regress_try($$SELECT es_delete_tenant('doomed')$$);
SELECT count(*) AS acme_events_after FROM es_read_log('acme');
SET row_security = off;
SELECT (SELECT count(*) FROM es_saas.events WHERE tenant_id = 'doomed') AS events,
       (SELECT count(*) FROM es_saas.commands WHERE tenant_id = 'doomed') AS commands,
       (SELECT count(*) FROM es_saas.tenant_grants WHERE tenant_id = 'doomed') AS grants;
RESET row_security;
-- the tenant can be created again, from an empty log
SELECT es_create_tenant('doomed') ->> 'status' AS status;
SELECT version, position FROM es_append('doomed', 'order-1', NULL, '[{"type":"A","data":1}]');

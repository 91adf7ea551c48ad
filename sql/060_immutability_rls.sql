-- Stored events cannot be changed, not even by the table owner.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
SELECT es_create_tenant('imm') ->> 'id' AS id;
SELECT version FROM es_append('imm', 'doc-1', NULL, '[{"type":"A","data":1}]');
-- another tenant with an event, never granted to regress_user_a
SELECT es_create_tenant('imm-other') ->> 'id' AS id;
SELECT version FROM es_append('imm-other', 'doc-1', NULL, '[{"type":"A","data":1}]');
SELECT regress_try($$UPDATE es_saas.events SET type = 'B' WHERE tenant_id = 'imm'$$);
SELECT regress_try($$DELETE FROM es_saas.events WHERE tenant_id = 'imm'$$);
SELECT regress_try($$TRUNCATE es_saas.events$$);
SET session_replication_role = replica;
SELECT regress_try($$DELETE FROM es_saas.events WHERE tenant_id = 'imm'$$);
RESET session_replication_role;
SELECT type FROM es_read_stream('imm', 'doc-1');
-- other roles may not even try
SET ROLE regress_user_a;
SELECT regress_try($$UPDATE es_saas.events SET type = 'B'$$);
SELECT regress_try($$INSERT INTO es_saas.events (tenant_id) VALUES ('imm')$$);
SELECT regress_try($$DELETE FROM es_saas.tenants$$);
RESET ROLE;

-- row-level security on direct reads
SELECT es_grant_tenant('regress_user_a', 'imm');
SET ROLE regress_user_a;
SELECT count(*) AS no_tenant_set FROM es_saas.events;
SELECT set_config('es_saas.tenant', 'imm', false) IS NOT NULL AS set;
SELECT tenant_id, stream, type FROM es_saas.events;
SELECT tenant_id FROM es_saas.tenants;
-- a tenant the role was not granted shows nothing, whatever the setting says
SELECT set_config('es_saas.tenant', 'imm-other', false) IS NOT NULL AS set;
SELECT count(*) AS forged FROM es_saas.events;
SELECT set_config('es_saas.tenant', '', false) IS NOT NULL AS set;
SELECT count(*) AS empty_setting FROM es_saas.events;
RESET ROLE;
RESET es_saas.tenant;

/* es_saas 1.1 -> 1.2: distribution-ready access (grants by role name, the
 * RLS tenant evaluated once per query).  Frozen once released. */

\echo Use "ALTER EXTENSION es_saas UPDATE TO '1.2'" to load this file. \quit

-- Grants by role name ------------------------------------------------------
--
-- A role's name is what pg_dump/pg_restore carry and what is the same on
-- every node of a cluster; its oid is neither.  role_sync.c keeps the names
-- in step with the roles: a shared dependency per granted role (DROP ROLE
-- is refused while it holds grants), and, when es_saas is loaded, renames
-- followed and DROP OWNED BY revoking.

ALTER TABLE es_saas.tenant_grants ADD COLUMN role_name pg_catalog.name;
UPDATE es_saas.tenant_grants g SET role_name = r.rolname
	FROM pg_catalog.pg_roles r
	WHERE r.oid OPERATOR(pg_catalog.=) g.role::pg_catalog.oid;
-- a dropped role's grant matched nobody: it goes
DELETE FROM es_saas.tenant_grants WHERE role_name IS NULL;
ALTER TABLE es_saas.tenant_grants DROP CONSTRAINT tenant_grants_pkey;
ALTER TABLE es_saas.tenant_grants DROP COLUMN role;
ALTER TABLE es_saas.tenant_grants RENAME COLUMN role_name TO role;
ALTER TABLE es_saas.tenant_grants ALTER COLUMN role SET NOT NULL;
ALTER TABLE es_saas.tenant_grants
	ADD CONSTRAINT tenant_grants_pkey PRIMARY KEY (tenant_id, role);
COMMENT ON TABLE es_saas.tenant_grants IS
	'roles allowed to act for a tenant (es_grant_tenant), by role name; DROP ROLE is refused while a role holds grants';

CREATE FUNCTION es_saas.tenant_grants_sync() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'es_tenant_grants_sync' LANGUAGE C;
COMMENT ON FUNCTION es_saas.tenant_grants_sync() IS
	'keeps one shared dependency (pg_shdepend) per role holding tenant grants';
CREATE TRIGGER tenant_grants_sync
	AFTER INSERT OR UPDATE OR DELETE ON es_saas.tenant_grants
	FOR EACH ROW EXECUTE FUNCTION es_saas.tenant_grants_sync();
-- bind the roles of the grants already stored (also what to run after
-- pg_upgrade, which does not carry pg_shdepend rows of extension tables)
UPDATE es_saas.tenant_grants SET role = role;

-- The RLS tenant, once per query ------------------------------------------
--
-- As an uncorrelated sub-select the policy function runs once per query
-- (an InitPlan), not once per row, and a distributed planner can evaluate
-- it where the query starts and ship a constant.

ALTER POLICY tenant_isolation ON es_saas.tenants
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));
ALTER POLICY tenant_isolation ON es_saas.tenant_grants
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));
ALTER POLICY tenant_isolation ON es_saas.events
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));
ALTER POLICY tenant_isolation ON es_saas.commands
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));
ALTER POLICY tenant_isolation ON es_saas.documents
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));
ALTER POLICY tenant_isolation ON es_saas.snapshots
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));
ALTER POLICY tenant_isolation ON es_saas.projection_checkpoints
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));
ALTER POLICY tenant_isolation ON es_saas.dead_letters
	USING (tenant_id OPERATOR(pg_catalog.=) (SELECT es_saas.current_tenant()));

-- ES413 for size limits
--
-- A batch over es_saas.max_batch_events and an event over
-- es_saas.max_event_bytes are now SQLSTATE ES413 (HTTP 413
-- payload_too_large), no longer ES429: retrying does not help.  The
-- reasons (batch_too_large, event_too_large) are unchanged.  The codes are
-- raised by the library, so no SQL object changes here.

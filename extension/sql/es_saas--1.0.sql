/* es_saas 1.0: tenant-isolated event store.  Frozen once released. */

\echo Use "CREATE EXTENSION es_saas" to load this file. \quit

-- Everything below is schema-qualified: the script must not depend on the
-- caller's search_path (operators included).

DO $$
BEGIN
	IF pg_catalog.current_setting('server_encoding') OPERATOR(pg_catalog.<>) 'UTF8' THEN
		RAISE EXCEPTION 'es_saas requires a UTF8 database'
			USING ERRCODE = 'feature_not_supported';
	END IF;
	-- roles are cluster-wide: another database may have created them
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
				   WHERE rolname OPERATOR(pg_catalog.=) 'es_admin') THEN
		CREATE ROLE es_admin NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
				   WHERE rolname OPERATOR(pg_catalog.=) 'es_gateway') THEN
		CREATE ROLE es_gateway NOLOGIN;
	END IF;
END
$$;

CREATE SCHEMA es_saas;
COMMENT ON SCHEMA es_saas IS 'private tables of the es_saas extension';
REVOKE ALL ON SCHEMA es_saas FROM PUBLIC;
GRANT USAGE ON SCHEMA es_saas TO PUBLIC;

-- Tenants ----------------------------------------------------------------

CREATE TABLE es_saas.tenants (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	name		pg_catalog.text,
	status		pg_catalog.text NOT NULL DEFAULT 'active',
	created_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	settings	pg_catalog.jsonb NOT NULL DEFAULT '{}',
	CONSTRAINT tenants_pkey PRIMARY KEY (tenant_id),
	CONSTRAINT tenants_status_check CHECK (status OPERATOR(pg_catalog.=) 'active'
		OR status OPERATOR(pg_catalog.=) 'suspended')
);
COMMENT ON TABLE es_saas.tenants IS 'one row per tenant; status active or suspended';

CREATE TABLE es_saas.tenant_grants (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	role		pg_catalog.regrole NOT NULL,
	granted_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT tenant_grants_pkey PRIMARY KEY (tenant_id, role),
	CONSTRAINT tenant_grants_tenant_fkey FOREIGN KEY (tenant_id)
		REFERENCES es_saas.tenants (tenant_id) ON DELETE CASCADE
);
COMMENT ON TABLE es_saas.tenant_grants IS 'roles allowed to act for a tenant (es_grant_tenant); by oid, so a grant follows a renamed role and dies with a dropped one';

-- Events -----------------------------------------------------------------

-- Column order is fixed by extension/es_saas.h (Anum_es_events_*).
CREATE TABLE es_saas.events (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	position	pg_catalog.int8 NOT NULL,
	stream		pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	version		pg_catalog.int8 NOT NULL,
	type		pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	data		pg_catalog.jsonb NOT NULL,
	metadata	pg_catalog.jsonb NOT NULL,
	id			pg_catalog.uuid NOT NULL,
	recorded_at pg_catalog.timestamptz NOT NULL,
	category	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	batch_size	pg_catalog.int4 NOT NULL,
	batch_index pg_catalog.int4 NOT NULL,
	CONSTRAINT events_pkey PRIMARY KEY (tenant_id, position),
	CONSTRAINT events_stream_version_key UNIQUE (tenant_id, stream, version),
	CONSTRAINT events_id_key UNIQUE (tenant_id, id)
);
CREATE INDEX events_category_idx ON es_saas.events (tenant_id, category, position);
COMMENT ON TABLE es_saas.events IS 'the immutable per-tenant event log; write through es_append only';

CREATE TABLE es_saas.commands (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	command_id	pg_catalog.uuid NOT NULL,
	type		pg_catalog.text NOT NULL,
	result		pg_catalog.jsonb NOT NULL,
	executed_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT commands_pkey PRIMARY KEY (tenant_id, command_id)
);
COMMENT ON TABLE es_saas.commands IS 'results of executed commands that carried an id (at most once per tenant)';

-- pg_dump keeps the data of these tables
SELECT pg_catalog.pg_extension_config_dump('es_saas.tenants', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.tenant_grants', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.events', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.commands', '');

-- Output row type of every read function
CREATE TYPE @extschema@.es_event AS (
	position	pg_catalog.int8,
	stream		pg_catalog.text,
	version		pg_catalog.int8,
	type		pg_catalog.text,
	data		pg_catalog.jsonb,
	metadata	pg_catalog.jsonb,
	id			pg_catalog.uuid,
	recorded_at pg_catalog.timestamptz
);
COMMENT ON TYPE @extschema@.es_event IS 'an event as every read function returns it';

-- Row-level security -------------------------------------------------------

CREATE FUNCTION es_saas.current_tenant() RETURNS pg_catalog.text
	AS 'MODULE_PATHNAME', 'es_current_tenant'
	LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION es_saas.current_tenant() IS
	'tenant in es_saas.tenant if the current role may act for it, else NULL (row-level security)';

ALTER TABLE es_saas.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.tenants FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.tenant_grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.tenant_grants FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.events FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.commands ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.commands FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON es_saas.tenants
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());
CREATE POLICY tenant_isolation ON es_saas.tenant_grants
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());
CREATE POLICY tenant_isolation ON es_saas.events
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());
CREATE POLICY tenant_isolation ON es_saas.commands
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());

-- Reading the tables directly shows only the established tenant's rows;
-- all writes go through the es_* functions.
REVOKE ALL ON ALL TABLES IN SCHEMA es_saas FROM PUBLIC;
GRANT SELECT ON es_saas.tenants, es_saas.events, es_saas.commands TO PUBLIC;

-- Immutability ---------------------------------------------------------------

CREATE FUNCTION es_saas.events_immutable() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'es_events_immutable'
	LANGUAGE C;
CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON es_saas.events
	FOR EACH ROW EXECUTE FUNCTION es_saas.events_immutable();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON es_saas.events
	FOR EACH STATEMENT EXECUTE FUNCTION es_saas.events_immutable();
-- fire even with session_replication_role = replica
ALTER TABLE es_saas.events ENABLE ALWAYS TRIGGER events_immutable;
ALTER TABLE es_saas.events ENABLE ALWAYS TRIGGER events_no_truncate;

-- Tenants API -----------------------------------------------------------------

CREATE FUNCTION @extschema@.es_create_tenant(tenant pg_catalog.text,
	name pg_catalog.text DEFAULT NULL,
	settings pg_catalog.jsonb DEFAULT '{}')
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_create_tenant' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_create_tenant(pg_catalog.text, pg_catalog.text, pg_catalog.jsonb) IS
	'create a tenant (administrators and the gateway); ES409 if it exists';

CREATE FUNCTION @extschema@.es_get_tenant(tenant pg_catalog.text)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_get_tenant' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_get_tenant(pg_catalog.text) IS
	'the tenant as {id, name, status, created_at, settings}';

CREATE FUNCTION @extschema@.es_list_tenants()
	RETURNS SETOF pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_list_tenants' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_list_tenants() IS
	'every tenant the caller may act for, ordered by id';

CREATE FUNCTION @extschema@.es_suspend_tenant(tenant pg_catalog.text)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_suspend_tenant' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_suspend_tenant(pg_catalog.text) IS
	'suspend a tenant: reads go on, every write is ES423 (administrators)';

CREATE FUNCTION @extschema@.es_resume_tenant(tenant pg_catalog.text)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_resume_tenant' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_resume_tenant(pg_catalog.text) IS
	'make a suspended tenant active again (administrators)';

CREATE FUNCTION @extschema@.es_delete_tenant(tenant pg_catalog.text)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_delete_tenant' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_delete_tenant(pg_catalog.text) IS
	'erase every event, command and grant of a tenant, and the tenant (administrators)';

CREATE FUNCTION @extschema@.es_grant_tenant(role pg_catalog.name, tenant pg_catalog.text)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_grant_tenant' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_grant_tenant(pg_catalog.name, pg_catalog.text) IS
	'allow a role (and its members) to act for a tenant (administrators)';

CREATE FUNCTION @extschema@.es_revoke_tenant(role pg_catalog.name, tenant pg_catalog.text)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_revoke_tenant' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_revoke_tenant(pg_catalog.name, pg_catalog.text) IS
	'withdraw es_grant_tenant (administrators)';

-- Write side --------------------------------------------------------------

CREATE FUNCTION @extschema@.es_append(tenant pg_catalog.text, stream pg_catalog.text,
	expected_version pg_catalog.int8, events pg_catalog.jsonb)
	RETURNS TABLE (version pg_catalog.int8, "position" pg_catalog.int8)
	AS 'MODULE_PATHNAME', 'es_append' LANGUAGE C VOLATILE ROWS 1;
COMMENT ON FUNCTION @extschema@.es_append(pg_catalog.text, pg_catalog.text, pg_catalog.int8, pg_catalog.jsonb) IS
	'append 1..N events atomically with optimistic concurrency; returns the new version and last position';

CREATE FUNCTION @extschema@.es_execute(tenant pg_catalog.text, command pg_catalog.jsonb)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_execute' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_execute(pg_catalog.text, pg_catalog.jsonb) IS
	'the command bus: built-in append, registered handlers; a command id runs at most once';

CREATE FUNCTION @extschema@.es_get_command(tenant pg_catalog.text, command_id pg_catalog.uuid)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_get_command' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_get_command(pg_catalog.text, pg_catalog.uuid) IS
	'stored result of an executed command, NULL when none ran with that id';

-- Read side ----------------------------------------------------------------

CREATE FUNCTION @extschema@.es_read_stream(tenant pg_catalog.text, stream pg_catalog.text,
	from_version pg_catalog.int8 DEFAULT 1, max_count pg_catalog.int4 DEFAULT 1000)
	RETURNS SETOF @extschema@.es_event
	AS 'MODULE_PATHNAME', 'es_read_stream' LANGUAGE C VOLATILE ROWS 100;
COMMENT ON FUNCTION @extschema@.es_read_stream(pg_catalog.text, pg_catalog.text, pg_catalog.int8, pg_catalog.int4) IS
	'events of one stream from a version on, in version order';

CREATE FUNCTION @extschema@.es_read_log(tenant pg_catalog.text,
	after_position pg_catalog.int8 DEFAULT 0, max_count pg_catalog.int4 DEFAULT 1000)
	RETURNS SETOF @extschema@.es_event
	AS 'MODULE_PATHNAME', 'es_read_log' LANGUAGE C VOLATILE ROWS 100;
COMMENT ON FUNCTION @extschema@.es_read_log(pg_catalog.text, pg_catalog.int8, pg_catalog.int4) IS
	'the tenant''s log after a position, gap-safe: never past an event that may still commit';

CREATE FUNCTION @extschema@.es_read_category(tenant pg_catalog.text, category pg_catalog.text,
	after_position pg_catalog.int8 DEFAULT 0, max_count pg_catalog.int4 DEFAULT 1000)
	RETURNS SETOF @extschema@.es_event
	AS 'MODULE_PATHNAME', 'es_read_category' LANGUAGE C VOLATILE ROWS 100;
COMMENT ON FUNCTION @extschema@.es_read_category(pg_catalog.text, pg_catalog.text, pg_catalog.int8, pg_catalog.int4) IS
	'events of every stream of a category after a position, gap-safe';

CREATE FUNCTION @extschema@.es_stream_version(tenant pg_catalog.text, stream pg_catalog.text)
	RETURNS pg_catalog.int8
	AS 'MODULE_PATHNAME', 'es_stream_version' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_stream_version(pg_catalog.text, pg_catalog.text) IS
	'version of the stream''s last event, 0 when it has none';

CREATE FUNCTION @extschema@.es_query(tenant pg_catalog.text, query pg_catalog.jsonb)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_query' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_query(pg_catalog.text, pg_catalog.jsonb) IS
	'the query side: built-in stream, log and category queries';

-- Privileges ------------------------------------------------------------------

-- Every function checks the caller itself (ES403); EXECUTE grants narrow the
-- surface further.  Tenant management is for administrators and the gateway.
REVOKE ALL ON FUNCTION es_saas.events_immutable() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_create_tenant(pg_catalog.text, pg_catalog.text, pg_catalog.jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_suspend_tenant(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_resume_tenant(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_delete_tenant(pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_grant_tenant(pg_catalog.name, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_revoke_tenant(pg_catalog.name, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.es_create_tenant(pg_catalog.text, pg_catalog.text, pg_catalog.jsonb) TO es_admin, es_gateway;
GRANT EXECUTE ON FUNCTION @extschema@.es_suspend_tenant(pg_catalog.text) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_resume_tenant(pg_catalog.text) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_delete_tenant(pg_catalog.text) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_grant_tenant(pg_catalog.name, pg_catalog.text) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_revoke_tenant(pg_catalog.name, pg_catalog.text) TO es_admin;

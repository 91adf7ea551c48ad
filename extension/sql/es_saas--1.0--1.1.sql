/* es_saas 1.0 -> 1.1: the CQRS runtime (command handlers, query side,
 * projections, async worker, document store).  Frozen once released. */

\echo Use "ALTER EXTENSION es_saas UPDATE TO '1.1'" to load this file. \quit

-- Registry (application code; not tenant data) ------------------------------

CREATE TABLE es_saas.aggregates (
	category	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	evolve		pg_catalog.regprocedure NOT NULL,
	initial_state pg_catalog.jsonb NOT NULL DEFAULT '{}',
	registered_by pg_catalog.regrole NOT NULL,
	registered_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT aggregates_pkey PRIMARY KEY (category)
);
COMMENT ON TABLE es_saas.aggregates IS 'evolve function and initial state per stream category';

CREATE TABLE es_saas.command_handlers (
	command_type pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	decide		pg_catalog.regprocedure NOT NULL,
	registered_by pg_catalog.regrole NOT NULL,
	registered_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT command_handlers_pkey PRIMARY KEY (command_type)
);
COMMENT ON TABLE es_saas.command_handlers IS 'decide function per command type';

CREATE TABLE es_saas.query_handlers (
	query_type	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	fn			pg_catalog.regprocedure NOT NULL,
	registered_by pg_catalog.regrole NOT NULL,
	registered_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT query_handlers_pkey PRIMARY KEY (query_type)
);
COMMENT ON TABLE es_saas.query_handlers IS 'query function per query type';

CREATE TABLE es_saas.projections (
	name		pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	handler		pg_catalog.regprocedure NOT NULL,
	event_types pg_catalog.text[],
	mode		pg_catalog.text NOT NULL,
	on_error	pg_catalog.text NOT NULL DEFAULT 'park',
	registered_by pg_catalog.regrole NOT NULL,
	registered_at pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT projections_pkey PRIMARY KEY (name),
	CONSTRAINT projections_mode_check CHECK (mode OPERATOR(pg_catalog.=) 'inline'
		OR mode OPERATOR(pg_catalog.=) 'async'),
	CONSTRAINT projections_on_error_check CHECK (on_error OPERATOR(pg_catalog.=) 'park'
		OR on_error OPERATOR(pg_catalog.=) 'stop')
);
COMMENT ON TABLE es_saas.projections IS 'projection handlers: inline (in the append) or async (worker)';

-- Tenant data of the runtime --------------------------------------------------

CREATE TABLE es_saas.documents (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	collection	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	key			pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	doc			pg_catalog.jsonb NOT NULL,
	updated_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT documents_pkey PRIMARY KEY (tenant_id, collection, key)
);
CREATE INDEX documents_doc_idx ON es_saas.documents USING gin (doc pg_catalog.jsonb_path_ops);
COMMENT ON TABLE es_saas.documents IS 'read-model documents per tenant and collection';

CREATE TABLE es_saas.snapshots (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	stream		pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	version		pg_catalog.int8 NOT NULL,
	state		pg_catalog.jsonb NOT NULL,
	evolve		pg_catalog.regprocedure NOT NULL,
	created_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT snapshots_pkey PRIMARY KEY (tenant_id, stream, version)
);
COMMENT ON TABLE es_saas.snapshots IS 'folded stream state every es_saas.snapshot_every events';

CREATE TABLE es_saas.projection_checkpoints (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	projection	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	position	pg_catalog.int8 NOT NULL DEFAULT 0,
	attempts	pg_catalog.int4 NOT NULL DEFAULT 0,
	errors		pg_catalog.int8 NOT NULL DEFAULT 0,
	last_error	pg_catalog.text,
	retry_at	pg_catalog.timestamptz,
	stopped		pg_catalog.bool NOT NULL DEFAULT false,
	updated_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT projection_checkpoints_pkey PRIMARY KEY (tenant_id, projection)
);
COMMENT ON TABLE es_saas.projection_checkpoints IS 'async projection progress per tenant';

CREATE TABLE es_saas.dead_letters (
	tenant_id	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	projection	pg_catalog.text COLLATE pg_catalog."C" NOT NULL,
	position	pg_catalog.int8 NOT NULL,
	event		pg_catalog.jsonb NOT NULL,
	error		pg_catalog.text NOT NULL,
	attempts	pg_catalog.int4 NOT NULL,
	parked_at	pg_catalog.timestamptz NOT NULL DEFAULT pg_catalog.now(),
	CONSTRAINT dead_letters_pkey PRIMARY KEY (tenant_id, projection, position)
);
COMMENT ON TABLE es_saas.dead_letters IS 'events an async projection gave up on, with the error';

SELECT pg_catalog.pg_extension_config_dump('es_saas.aggregates', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.command_handlers', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.query_handlers', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.projections', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.documents', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.snapshots', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.projection_checkpoints', '');
SELECT pg_catalog.pg_extension_config_dump('es_saas.dead_letters', '');

ALTER TABLE es_saas.aggregates ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.aggregates FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.command_handlers ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.command_handlers FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.query_handlers ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.query_handlers FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.projections ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.projections FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.documents FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.snapshots FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.projection_checkpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.projection_checkpoints FORCE ROW LEVEL SECURITY;
ALTER TABLE es_saas.dead_letters ENABLE ROW LEVEL SECURITY;
ALTER TABLE es_saas.dead_letters FORCE ROW LEVEL SECURITY;

-- the registry holds no tenant data: readable by all, writable by nobody
CREATE POLICY registry_read ON es_saas.aggregates FOR SELECT USING (true);
CREATE POLICY registry_read ON es_saas.command_handlers FOR SELECT USING (true);
CREATE POLICY registry_read ON es_saas.query_handlers FOR SELECT USING (true);
CREATE POLICY registry_read ON es_saas.projections FOR SELECT USING (true);
CREATE POLICY tenant_isolation ON es_saas.documents
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());
CREATE POLICY tenant_isolation ON es_saas.snapshots
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());
CREATE POLICY tenant_isolation ON es_saas.projection_checkpoints
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());
CREATE POLICY tenant_isolation ON es_saas.dead_letters
	USING (tenant_id OPERATOR(pg_catalog.=) es_saas.current_tenant());

REVOKE ALL ON es_saas.aggregates, es_saas.command_handlers, es_saas.query_handlers,
	es_saas.projections, es_saas.documents, es_saas.snapshots,
	es_saas.projection_checkpoints, es_saas.dead_letters FROM PUBLIC;
GRANT SELECT ON es_saas.aggregates, es_saas.command_handlers, es_saas.query_handlers,
	es_saas.projections, es_saas.documents, es_saas.projection_checkpoints,
	es_saas.dead_letters TO PUBLIC;

-- Registration (administrators) ---------------------------------------------

CREATE FUNCTION @extschema@.es_register_aggregate(category pg_catalog.text,
	evolve pg_catalog.regprocedure, initial_state pg_catalog.jsonb DEFAULT '{}')
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_register_aggregate' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_register_aggregate(pg_catalog.text, pg_catalog.regprocedure, pg_catalog.jsonb) IS
	'register evolve(state jsonb, event jsonb) returns jsonb for a stream category';

CREATE FUNCTION @extschema@.es_register_command(command_type pg_catalog.text,
	decide pg_catalog.regprocedure)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_register_command' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_register_command(pg_catalog.text, pg_catalog.regprocedure) IS
	'register decide(state jsonb, command jsonb) returns jsonb (events) for a command type';

CREATE FUNCTION @extschema@.es_register_query(query_type pg_catalog.text,
	fn pg_catalog.regprocedure)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_register_query' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_register_query(pg_catalog.text, pg_catalog.regprocedure) IS
	'register fn(tenant text, params jsonb) returns jsonb for a query type';

CREATE FUNCTION @extschema@.es_register_projection(name pg_catalog.text,
	handler pg_catalog.regprocedure, event_types pg_catalog.text[] DEFAULT NULL,
	mode pg_catalog.text DEFAULT 'inline', on_error pg_catalog.text DEFAULT 'park')
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_register_projection' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_register_projection(pg_catalog.text, pg_catalog.regprocedure, pg_catalog.text[], pg_catalog.text, pg_catalog.text) IS
	'register handler(tenant text, event jsonb) returns void, inline or async';

CREATE FUNCTION @extschema@.es_unregister(kind pg_catalog.text, name pg_catalog.text)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_unregister' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_unregister(pg_catalog.text, pg_catalog.text) IS
	'remove an aggregate, command, query or projection registration';

CREATE FUNCTION @extschema@.es_rebuild_projection(name pg_catalog.text,
	tenant pg_catalog.text DEFAULT NULL)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_rebuild_projection' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_rebuild_projection(pg_catalog.text, pg_catalog.text) IS
	'clear a projection''s documents for one tenant or all and replay the log';

CREATE FUNCTION @extschema@.es_projection_status()
	RETURNS SETOF pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_projection_status' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_projection_status() IS
	'position, lag, errors and dead letters per projection and tenant the caller may see';

-- Document store (tenant data) ------------------------------------------------

CREATE FUNCTION @extschema@.es_doc_put(tenant pg_catalog.text, collection pg_catalog.text,
	key pg_catalog.text, doc pg_catalog.jsonb)
	RETURNS pg_catalog.void
	AS 'MODULE_PATHNAME', 'es_doc_put' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_doc_put(pg_catalog.text, pg_catalog.text, pg_catalog.text, pg_catalog.jsonb) IS
	'insert or replace a read-model document';

CREATE FUNCTION @extschema@.es_doc_get(tenant pg_catalog.text, collection pg_catalog.text,
	key pg_catalog.text)
	RETURNS pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_doc_get' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_doc_get(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
	'a read-model document, NULL when absent';

CREATE FUNCTION @extschema@.es_doc_delete(tenant pg_catalog.text, collection pg_catalog.text,
	key pg_catalog.text)
	RETURNS pg_catalog.bool
	AS 'MODULE_PATHNAME', 'es_doc_delete' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_doc_delete(pg_catalog.text, pg_catalog.text, pg_catalog.text) IS
	'delete a read-model document; true when it existed';

CREATE FUNCTION @extschema@.es_doc_find(tenant pg_catalog.text, collection pg_catalog.text,
	filter pg_catalog.jsonb DEFAULT '{}', max_count pg_catalog.int4 DEFAULT 100)
	RETURNS SETOF pg_catalog.jsonb
	AS 'MODULE_PATHNAME', 'es_doc_find' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.es_doc_find(pg_catalog.text, pg_catalog.text, pg_catalog.jsonb, pg_catalog.int4) IS
	'documents of a collection containing filter (jsonb @>), ordered by key';

REVOKE ALL ON FUNCTION @extschema@.es_register_aggregate(pg_catalog.text, pg_catalog.regprocedure, pg_catalog.jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_register_command(pg_catalog.text, pg_catalog.regprocedure) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_register_query(pg_catalog.text, pg_catalog.regprocedure) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_register_projection(pg_catalog.text, pg_catalog.regprocedure, pg_catalog.text[], pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_unregister(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.es_rebuild_projection(pg_catalog.text, pg_catalog.text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.es_register_aggregate(pg_catalog.text, pg_catalog.regprocedure, pg_catalog.jsonb) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_register_command(pg_catalog.text, pg_catalog.regprocedure) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_register_query(pg_catalog.text, pg_catalog.regprocedure) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_register_projection(pg_catalog.text, pg_catalog.regprocedure, pg_catalog.text[], pg_catalog.text, pg_catalog.text) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_unregister(pg_catalog.text, pg_catalog.text) TO es_admin;
GRANT EXECUTE ON FUNCTION @extschema@.es_rebuild_projection(pg_catalog.text, pg_catalog.text) TO es_admin;

-- backends cache the inline projections; tell them when the list changes
CREATE FUNCTION es_saas.registry_changed() RETURNS pg_catalog.trigger
	AS 'MODULE_PATHNAME', 'es_registry_changed' LANGUAGE C;
REVOKE ALL ON FUNCTION es_saas.registry_changed() FROM PUBLIC;
CREATE TRIGGER projections_changed
	AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON es_saas.projections
	FOR EACH STATEMENT EXECUTE FUNCTION es_saas.registry_changed();

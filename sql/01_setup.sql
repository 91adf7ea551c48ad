-- Install the extension and the helpers every later file uses.
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_admin, regress_gateway, regress_user_a, regress_nobody;
RESET client_min_messages;

CREATE EXTENSION es_saas;

-- Shows SQLSTATE, message and detail of a failing statement, or 'ok'.
-- It runs in a subtransaction, so the failed statement leaves nothing.
CREATE FUNCTION regress_try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	msg text;
	det text;
BEGIN
	EXECUTE sql;
	RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		det = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || msg || COALESCE(' ' || NULLIF(det, ''), '');
END
$$;
GRANT EXECUTE ON FUNCTION regress_try(text) TO PUBLIC;

CREATE ROLE regress_admin IN ROLE es_admin;
CREATE ROLE regress_gateway IN ROLE es_gateway;
CREATE ROLE regress_user_a;
CREATE ROLE regress_nobody;

-- What the extension installed
SELECT extname, extversion, extrelocatable FROM pg_extension WHERE extname = 'es_saas';
SELECT name, version, superuser, trusted FROM pg_available_extension_versions
WHERE name = 'es_saas' ORDER BY version;
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'es_saas')
ORDER BY 1, 2;
SELECT relname, relrowsecurity, relforcerowsecurity
FROM pg_class WHERE relnamespace = 'es_saas'::regnamespace AND relkind = 'r'
ORDER BY relname;
-- the private tables are dumped by pg_dump
SELECT unnest(extconfig)::regclass::text AS dumped FROM pg_extension
WHERE extname = 'es_saas' ORDER BY 1;

-- The extension as installed: version, functions, tables, what pg_dump dumps.
-- The set-up every file shares (extension, regress_try, roles) is in
-- sql/fixtures/setup.psql.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all

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

-- Drop what the suite created.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
DROP EXTENSION es_saas;
SELECT count(*) AS leftover_schema FROM pg_namespace WHERE nspname = 'es_saas';
DROP FUNCTION regress_try(text);
DROP ROLE regress_admin, regress_gateway, regress_user_a, regress_nobody;

-- Async projections, as the worker sees them: registering one in a database
-- the worker does not serve leaves it lagging, status not_running, in
-- es_projection_status.  (The
-- worker itself: test/t/010_worker.pl.)
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all

SELECT es_create_tenant('async-bank') ->> 'id' AS id;
SELECT version FROM es_append('async-bank', 'account-1', NULL, '[{"type": "Opened", "data": {}}]');

-- async projections need the worker: registering one says so (no preload here)
CREATE FUNCTION regress_noop_projection(tenant text, event jsonb) RETURNS void
LANGUAGE sql AS $$ SELECT $$;
SELECT es_register_projection('async_noop', 'regress_noop_projection(text,jsonb)', NULL, 'async');
-- no worker serves this database: the status says so instead of "running"
SELECT s ->> 'mode' AS mode, s ->> 'position' AS position, (s ->> 'lag')::int > 0 AS lagging,
	s ->> 'status' AS status, s ->> 'detail' AS detail, s ->> 'hint' AS hint
FROM es_projection_status() s WHERE s ->> 'name' = 'async_noop' AND s ->> 'tenant' = 'async-bank';
SELECT es_unregister('projection', 'async_noop');
DROP FUNCTION regress_noop_projection(text, jsonb);

-- Readers: es_read_stream, es_read_log, es_read_category, es_stream_version.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
SELECT es_create_tenant('rd') ->> 'id' AS id;
SELECT es_create_tenant('rd-other') ->> 'id' AS id;
SELECT version FROM es_append('rd', 'order-1', NULL, '[{"type":"A","data":1},{"type":"B","data":2}]');
SELECT version FROM es_append('rd', 'user-1', NULL, '[{"type":"U","data":{"name":"x"}}]');
SELECT version FROM es_append('rd', 'order-2', NULL, '[{"type":"C","data":3}]');
SELECT version FROM es_append('rd', 'order', NULL, '[{"type":"D","data":4}]');
SELECT version FROM es_append('rd', 'orderly-1', NULL, '[{"type":"E","data":5}]');
SELECT version FROM es_append('rd-other', 'order-1', NULL, '[{"type":"X","data":0}]');

-- the output type
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'es_event'::regclass AND attnum > 0 ORDER BY attnum;

SELECT position, stream, version, type, data FROM es_read_stream('rd', 'order-1');
SELECT position, version FROM es_read_stream('rd', 'order-1', 2);
SELECT position, version FROM es_read_stream('rd', 'order-1', 1, 1);
SELECT count(*) FROM es_read_stream('rd', 'order-1', 3);
SELECT count(*) FROM es_read_stream('rd', 'no-such-stream');
SELECT count(*) FROM es_read_stream('rd', 'order-1', 1, 0);

SELECT position, stream, version, type FROM es_read_log('rd');
SELECT position FROM es_read_log('rd', 2);
SELECT position FROM es_read_log('rd', 2, 2);
SELECT count(*) FROM es_read_log('rd', 100);
-- another tenant's log starts at its own position 1
SELECT position, stream, type FROM es_read_log('rd-other');

-- category = part before the first '-'
SELECT position, stream FROM es_read_category('rd', 'order');
SELECT position, stream FROM es_read_category('rd', 'order', 3);
SELECT position, stream FROM es_read_category('rd', 'orderly');
SELECT count(*) FROM es_read_category('rd', 'user', 0, 10);

SELECT es_stream_version('rd', 'order-1'), es_stream_version('rd', 'nothing-here');

-- max_count above the cap is clamped, not an error
SET es_saas.max_read_count = 2;
SELECT count(*) FROM es_read_log('rd', 0, 1000000);
SELECT count(*) FROM es_read_stream('rd', 'order-1', 1, 1000000);
RESET es_saas.max_read_count;

-- bad arguments
SELECT regress_try($$SELECT es_read_stream('rd', 'order-1', -1)$$);
SELECT regress_try($$SELECT es_read_stream('rd', 'order-1', 1, -5)$$);
SELECT regress_try($$SELECT es_read_stream('rd', NULL)$$);
SELECT regress_try($$SELECT es_read_stream('rd', '')$$);
SELECT regress_try($$SELECT es_read_stream('rd', 'order-1', NULL)$$);
SELECT regress_try($$SELECT es_read_log('rd', -1)$$);
SELECT regress_try($$SELECT es_read_log('rd', NULL)$$);
SELECT regress_try($$SELECT es_read_log('rd', 0, NULL)$$);
SELECT regress_try($$SELECT es_read_log('nope')$$);
SELECT regress_try($$SELECT es_read_log(NULL)$$);
SELECT regress_try($$SELECT es_read_category('rd', NULL)$$);
SELECT regress_try($$SELECT es_stream_version('rd', NULL)$$);
SELECT regress_try($$SELECT es_stream_version('nope', 'x')$$);

-- json shapes of recorded_at and id
SELECT recorded_at <= now() AS recorded_in_past, id IS NOT NULL AS has_id
FROM es_read_stream('rd', 'order-1') LIMIT 1;

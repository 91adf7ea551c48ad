-- es_execute (command bus, built-in append) and es_query (built-in queries).
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
SELECT es_create_tenant('cq') ->> 'id' AS id;

-- result shape; generated ids are uuids
SELECT r - 'events' AS result,
       jsonb_array_length(r -> 'events') AS n,
       (SELECT jsonb_agg(e - 'id') FROM jsonb_array_elements(r -> 'events') e) AS events
FROM es_execute('cq', '{"type":"append","stream":"cart-1","expected_version":0,
	"events":[{"type":"Opened","data":{}},{"type":"Added","data":{"sku":"x"}}]}') r;

-- commands with an id run at most once per tenant
SELECT es_execute('cq', '{"type":"append","stream":"cart-2","id":"c0000000-0000-4000-8000-000000000001",
	"events":[{"type":"Opened","data":{},"id":"e0000000-0000-4000-8000-000000000001"}]}');
SELECT es_execute('cq', '{"type":"append","stream":"cart-2","id":"c0000000-0000-4000-8000-000000000001",
	"events":[{"type":"Opened","data":{}}]}');
SELECT es_stream_version('cq', 'cart-2');
SELECT es_get_command('cq', 'c0000000-0000-4000-8000-000000000001');
SELECT es_get_command('cq', 'c0000000-0000-4000-8000-00000000ffff') IS NULL AS unknown_is_null;
-- the same command id in another tenant is another command
SELECT es_create_tenant('cq2') ->> 'id' AS id;
SELECT es_get_command('cq2', 'c0000000-0000-4000-8000-000000000001') IS NULL AS not_shared;

-- a failed command stores nothing and can be retried
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"cart-2","expected_version":7,"id":"c0000000-0000-4000-8000-000000000002","events":[{"type":"X","data":1}]}')$$);
SELECT es_get_command('cq', 'c0000000-0000-4000-8000-000000000002') IS NULL AS not_stored;
SELECT es_execute('cq', '{"type":"append","stream":"cart-2","expected_version":1,"id":"c0000000-0000-4000-8000-000000000002","events":[{"type":"X","data":1}]}') ->> 'version' AS version;

-- bad commands
SELECT regress_try($$SELECT es_execute('cq', NULL)$$);
SELECT regress_try($$SELECT es_execute('cq', '[]')$$);
SELECT regress_try($$SELECT es_execute('cq', '{}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":5}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"launch_rockets"}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"s-1"}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"s-1","events":[]}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"s-1","expected_version":"1","events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"s-1","expected_version":1.5,"events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"s-1","expected_version":-1,"events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"s-1","id":"not-a-uuid","events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_execute('cq', '{"type":"append","stream":"","events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_execute(NULL, '{"type":"append"}')$$);
SELECT regress_try($$SELECT es_get_command('cq', NULL)$$);
SELECT regress_try($$SELECT es_get_command('nope', 'c0000000-0000-4000-8000-000000000001')$$);

-- queries
SELECT es_execute('cq', '{"type":"append","stream":"item-1","events":[{"type":"I","data":{"n":1}},{"type":"J","data":{"n":2}}]}') ->> 'position' AS position;
SELECT jsonb_path_query_array(es_query('cq', '{"type":"stream","stream":"cart-1"}'), '$.events[*].type') AS types;
SELECT jsonb_path_query_array(es_query('cq', '{"type":"stream","stream":"cart-1","from_version":2}'), '$.events[*].version') AS versions;
SELECT jsonb_path_query_array(es_query('cq', '{"type":"log","after_position":2,"limit":3}'), '$.events[*].position') AS positions;
SELECT jsonb_path_query_array(es_query('cq', '{"type":"category","category":"item"}'), '$.events[*].data') AS data;
SELECT es_query('cq', '{"type":"stream","stream":"nothing-1"}');
-- every event key of the contract
SELECT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(es_query('cq', '{"type":"log","limit":1}') -> 'events' -> 0) k) AS keys;
SELECT regress_try($$SELECT es_query('cq', '{"type":"stock_price"}')$$);
SELECT regress_try($$SELECT es_query('cq', '{"type":"stream"}')$$);
SELECT regress_try($$SELECT es_query('cq', '{"type":"log","limit":"ten"}')$$);
SELECT regress_try($$SELECT es_query('cq', '{"type":"log","after_position":-3}')$$);
SELECT regress_try($$SELECT es_query('cq', '"log"')$$);
SELECT regress_try($$SELECT es_query('cq', NULL)$$);
SELECT regress_try($$SELECT es_query('nope', '{"type":"log"}')$$);

-- Hostile input: each gets its ESnnn error, nothing is half-written, the
-- backend survives.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
SELECT es_create_tenant('hostile') ->> 'id' AS id;

-- injection-shaped and unicode stream names are just names
SELECT version FROM es_append('hostile', $$x'); DROP TABLE es_saas.events; --$$, NULL, '[{"type":"A","data":1}]');
SELECT version FROM es_append('hostile', 'order-"quoted"-1', NULL, '[{"type":"A","data":1}]');
SELECT version FROM es_append('hostile', 'заказ-1', NULL, '[{"type":"Создан","data":{"ключ":"значение"}}]');
SELECT version FROM es_append('hostile', '注文-🚀', NULL, '[{"type":"A","data":"🚀"}]');
SELECT stream, type, data FROM es_read_log('hostile') ORDER BY position;
SELECT position, stream FROM es_read_category('hostile', 'заказ');
SELECT count(*) AS events_table_intact FROM pg_class WHERE oid = 'es_saas.events'::regclass;
SELECT regress_try($$SELECT es_create_tenant('x''; DROP TABLE es_saas.events; --')$$);
SELECT regress_try($$SELECT es_read_log('acme'' OR ''1''=''1')$$);

-- control characters, length limits
SELECT regress_try($$SELECT * FROM es_append('hostile', E'tab\there', NULL, '[{"type":"A","data":1}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', E'bell\u0007', NULL, '[{"type":"A","data":1}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', E'c1\u0085x', NULL, '[{"type":"A","data":1}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', repeat('s', 256), NULL, '[{"type":"A","data":1}]')$$);
SELECT version FROM es_append('hostile', repeat('s', 255), NULL, '[{"type":"A","data":1}]');
SELECT regress_try($$SELECT * FROM es_append('hostile', repeat('é', 128), NULL, '[{"type":"A","data":1}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, jsonb_build_array(jsonb_build_object('type', repeat('t', 256), 'data', 1)))$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":"a\nb","data":1}]')$$);

-- wrong JSON types
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, NULL)$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '{"type":"A","data":1}')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '"[]"')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '42')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, 'null')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[1]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[[{"type":"A","data":1}]]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":1,"data":1}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":null,"data":1}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"data":1}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":"A","data":1,"metadata":[1]}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":"A","data":1,"metadata":"m"}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":"A","data":1,"id":42}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":"A","data":1,"id":"{a0000000-0000-4000-8000-000000000001}"}]')$$);
SELECT regress_try($$SELECT * FROM es_append('hostile', 's-1', NULL, '[{"type":"A","data":1},{"type":"A","data":1,"metdata":{}}]')$$);
-- metadata null means none
SELECT metadata FROM es_read_stream('hostile', 'meta-1') UNION ALL
SELECT metadata FROM es_read_stream('hostile', 'meta-1', 1) WHERE false;
SELECT version FROM es_append('hostile', 'meta-1', NULL, '[{"type":"A","data":1,"metadata":null}]');
SELECT metadata FROM es_read_stream('hostile', 'meta-1');

-- deep JSON: refused by es_saas.max_json_depth, or by the jsonb parser itself
SELECT regress_try($$SELECT * FROM es_append('hostile', 'deep-1', NULL, ('[{"type":"A","data":' || repeat('[', 101) || repeat(']', 101) || '}]')::jsonb)$$);
SELECT version FROM es_append('hostile', 'deep-2', NULL, ('[{"type":"A","data":' || repeat('[', 99) || repeat(']', 99) || '}]')::jsonb);
SELECT regress_try($$SELECT * FROM es_append('hostile', 'deep-3', NULL, ('[{"type":"A","data":1,"metadata":{"m":' || repeat('{"a":', 120) || '1' || repeat('}', 120) || '}}]')::jsonb)$$);
SELECT left(regress_try($$SELECT ('[' || repeat('[', 100000) || repeat(']', 100000) || ']')::jsonb$$), 5) AS parser_refuses;

-- numbers in odd places
SELECT regress_try($$SELECT es_execute('hostile', '{"type":"append","stream":"s-1","expected_version":1e400,"events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_execute('hostile', '{"type":"append","stream":"s-1","expected_version":99999999999999999999,"events":[{"type":"A","data":1}]}')$$);
SELECT regress_try($$SELECT es_query('hostile', '{"type":"log","limit":99999999999999999999}')$$);
SELECT jsonb_array_length(es_query('hostile', '{"type":"log","limit":9999999999}') -> 'events') AS clamped;

-- nothing of the refused appends was written
SELECT es_stream_version('hostile', 's-1') AS s1, es_stream_version('hostile', 'deep-1') AS deep1;
SELECT count(*) AS total FROM es_read_log('hostile');

-- a mangled random batch never crashes the backend (poor man's fuzz)
SELECT setseed(0.42);
SELECT count(*) FILTER (WHERE r = 'ok') AS ok, count(*) FILTER (WHERE r LIKE 'ES%') AS refused,
       count(*) FILTER (WHERE r <> 'ok' AND r NOT LIKE 'ES%') AS other
FROM (
	SELECT regress_try(format('SELECT * FROM es_append(%L, %L, NULL, %L)', 'hostile', 'fuzz-' || i,
		(SELECT jsonb_agg(CASE (random() * 7)::int
			WHEN 0 THEN jsonb_build_object('type', 'T', 'data', j)
			WHEN 1 THEN jsonb_build_object('type', j, 'data', j)
			WHEN 2 THEN jsonb_build_object('data', j)
			WHEN 3 THEN to_jsonb(j)
			WHEN 4 THEN jsonb_build_object('type', 'T', 'data', j, 'id', md5(j::text))
			WHEN 5 THEN jsonb_build_object('type', 'T', 'data', j, 'metadata', j)
			ELSE jsonb_build_object('type', 'T', 'data', jsonb_build_array(j, 'x'))
		END) FROM generate_series(i * 10, i * 10 + (random() * 3)::int) j))) AS r
	FROM generate_series(1, 300) i
) s;
SELECT 'backend alive' AS status;

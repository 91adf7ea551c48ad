-- es_append: expected versions, batches, idempotent retries, limits.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all
SELECT es_create_tenant('app') ->> 'id' AS id;

-- expected_version 0: the stream must be new
SELECT * FROM es_append('app', 'order-1', 0, '[{"type":"Created","data":{"total":10}}]');
SELECT regress_try($$SELECT * FROM es_append('app', 'order-1', 0, '[{"type":"Created","data":{}}]')$$);
-- n > 0: exactly n
SELECT * FROM es_append('app', 'order-1', 1, '[{"type":"Paid","data":{"amount":10},"metadata":{"user":"u1"}}]');
SELECT regress_try($$SELECT * FROM es_append('app', 'order-1', 1, '[{"type":"Paid","data":{}}]')$$);
SELECT regress_try($$SELECT * FROM es_append('app', 'order-1', 5, '[{"type":"Paid","data":{}}]')$$);
SELECT regress_try($$SELECT * FROM es_append('app', 'order-new', 3, '[{"type":"Paid","data":{}}]')$$);
-- NULL: any version
SELECT * FROM es_append('app', 'order-1', NULL, '[{"type":"Shipped","data":null}]');
-- batches are atomic, versions and positions contiguous
SELECT * FROM es_append('app', 'order-2', NULL,
	'[{"type":"A","data":1},{"type":"B","data":"two"},{"type":"C","data":[3]},{"type":"D","data":{"d":4}}]');
SELECT position, stream, version, type, data, metadata FROM es_read_log('app') ORDER BY position;
-- a failing batch writes nothing
SELECT regress_try($$SELECT * FROM es_append('app', 'order-3', NULL, '[{"type":"A","data":1},{"type":"","data":2}]')$$);
SELECT es_stream_version('app', 'order-3');

-- idempotent retries by event id
SELECT * FROM es_append('app', 'pay-1', 0, '[
	{"type":"A","data":1,"id":"a0000000-0000-4000-8000-000000000001"},
	{"type":"B","data":2,"id":"a0000000-0000-4000-8000-000000000002"}]');
-- the same batch again: original result, nothing written, whatever the expected version
SELECT * FROM es_append('app', 'pay-1', 0, '[
	{"type":"A","data":1,"id":"a0000000-0000-4000-8000-000000000001"},
	{"type":"B","data":2,"id":"a0000000-0000-4000-8000-000000000002"}]');
SELECT * FROM es_append('app', 'pay-1', NULL, '[{"type":"C","data":3}]');
SELECT * FROM es_append('app', 'pay-1', 0, '[
	{"type":"A","data":1,"id":"A0000000-0000-4000-8000-000000000001"},
	{"type":"B","data":2,"id":"a0000000-0000-4000-8000-000000000002"}]');
SELECT es_stream_version('app', 'pay-1');
-- partial matches are conflicts
SELECT regress_try($$SELECT * FROM es_append('app', 'pay-1', NULL, '[{"type":"A","data":1,"id":"a0000000-0000-4000-8000-000000000001"}]')$$);
SELECT regress_try($$SELECT * FROM es_append('app', 'pay-1', NULL, '[{"type":"A","data":1,"id":"a0000000-0000-4000-8000-000000000002"}]')$$);
SELECT regress_try($$SELECT * FROM es_append('app', 'pay-1', NULL, '[{"type":"A","data":1,"id":"a0000000-0000-4000-8000-000000000001"},{"type":"B","data":2,"id":"a0000000-0000-4000-8000-000000000009"}]')$$);
SELECT regress_try($$SELECT * FROM es_append('app', 'pay-2', NULL, '[{"type":"A","data":1,"id":"a0000000-0000-4000-8000-000000000001"},{"type":"B","data":2,"id":"a0000000-0000-4000-8000-000000000002"}]')$$);
SELECT regress_try($$SELECT * FROM es_append('app', 'pay-2', NULL, '[{"type":"A","data":1},{"type":"B","data":2,"id":"a0000000-0000-4000-8000-000000000002"}]')$$);
SELECT regress_try($$SELECT * FROM es_append('app', 'pay-2', NULL, '[{"type":"A","data":1,"id":"b0000000-0000-4000-8000-000000000001"},{"type":"B","data":2,"id":"b0000000-0000-4000-8000-000000000001"}]')$$);
SELECT es_stream_version('app', 'pay-2');
-- ids are per tenant: another tenant may use the same id (no oracle)
SELECT es_create_tenant('app2') ->> 'id' AS id;
SELECT * FROM es_append('app2', 'pay-1', 0, '[{"type":"A","data":1,"id":"a0000000-0000-4000-8000-000000000001"}]');

-- stored events keep the given id and get one when absent
SELECT id FROM es_read_stream('app', 'pay-1', 1, 2) ORDER BY version;
SELECT count(DISTINCT id) = count(*) AS ids_unique, bool_and(id IS NOT NULL) AS ids_set
FROM es_read_log('app');

-- limits: batch size and event size are GUCs (ES413)
SET es_saas.max_batch_events = 3;
SELECT regress_try($$SELECT * FROM es_append('app', 'lim-1', NULL, '[{"type":"A","data":1},{"type":"A","data":1},{"type":"A","data":1},{"type":"A","data":1}]')$$);
SELECT version FROM es_append('app', 'lim-1', NULL, '[{"type":"A","data":1},{"type":"A","data":1},{"type":"A","data":1}]');
RESET es_saas.max_batch_events;
SET es_saas.max_event_bytes = 100;
SELECT regress_try($$SELECT * FROM es_append('app', 'lim-2', NULL, jsonb_build_array(jsonb_build_object('type','A','data',repeat('x', 90),'metadata',jsonb_build_object('k',repeat('y', 10)))))$$);
RESET es_saas.max_event_bytes;
-- defaults: 1000 events, 1 MiB
SELECT regress_try($$SELECT * FROM es_append('app', 'lim-3', NULL, (SELECT jsonb_agg(jsonb_build_object('type','A','data',i)) FROM generate_series(1, 1001) i))$$);
SELECT version FROM es_append('app', 'lim-3', NULL, (SELECT jsonb_agg(jsonb_build_object('type','A','data',i)) FROM generate_series(1, 1000) i));
SELECT regress_try($$SELECT * FROM es_append('app', 'lim-4', NULL, jsonb_build_array(jsonb_build_object('type','A','data',repeat('x', 1048576))))$$);
SELECT version FROM es_append('app', 'lim-4', NULL, jsonb_build_array(jsonb_build_object('type','A','data',repeat('x', 1048000))));
SELECT length(data #>> '{}') FROM es_read_stream('app', 'lim-4');
-- the size counted is exactly the JSON text's: at its length an event fits,
-- one byte less is ES413 (escapes, unicode, numerics, empties, raw scalars)
CREATE FUNCTION pg_temp.fits(d jsonb, m jsonb, lim int) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM set_config('es_saas.max_event_bytes', lim::text, true);
  PERFORM es_append('app', 'lim-text-' || md5(d::text || m::text || lim), NULL,
                    jsonb_build_array(jsonb_build_object('type', 'A', 'data', d, 'metadata', m)));
  RETURN 'fits';
EXCEPTION WHEN SQLSTATE 'ES413' THEN
  RETURN 'ES413';
END $f$;
WITH c(d, m) AS (VALUES
  ('{"a": [1, 2.50, -0.0001, 1e30, 1e-20, 0], "b": {"c": null, "d": true, "e": false}}'::jsonb, '{}'::jsonb),
  (jsonb_build_object('s', E'q"uote\\back\nnl\ttab\u0001ctl\u001f\u00e9\U0001F600 \b\f\r', 'k', repeat('z', 20)), '{"m": []}'),
  ('[[], {}, [[]], {"": {}}, "", [null], {"x": [{}]}, "padding padding padding padding"]', '{"": ""}'),
  ('"a raw scalar string, long enough to pass the sixty-four byte minimum"', '{}'),
  ('12345678901234567890123456789012345678901234567890123456789012345.5', '{"m": 1.0}'),
  (jsonb_build_object('big', 1e300::numeric, 'small', 1e-300::numeric), '{"deep": {"er": {"est": [1, [2, [3]]]}}}'))
SELECT octet_length(d::text) + octet_length(m::text) AS text_bytes,
       pg_temp.fits(d, m, octet_length(d::text) + octet_length(m::text)) AS at_length,
       pg_temp.fits(d, m, octet_length(d::text) + octet_length(m::text) - 1) AS one_less
FROM c;
-- and for 300 generated documents (seeded): strings over every class of
-- character escape_json treats apart, numerics of every scale, nesting
SELECT setseed(0.42);
CREATE FUNCTION pg_temp.rand_json(depth int) RETURNS jsonb LANGUAGE plpgsql AS $f$
DECLARE
  k int := floor(random() * 7);
  chars text[] := ARRAY[E'\x01', E'\x1f', E'\b', E'\f', E'\n', E'\r', E'\t', '"', E'\\', '/', 'a', ' ', E'\u00e9', E'\u20ac', E'\U0001F600', '0'];
  str text := '';
BEGIN
  IF depth > 3 THEN k := k % 4; END IF;
  FOR i IN 1 .. floor(random() * 12)::int LOOP
    str := str || chars[1 + floor(random() * array_length(chars, 1))::int];
  END LOOP;
  RETURN CASE k
    WHEN 0 THEN to_jsonb(str)
    WHEN 1 THEN to_jsonb(round((random() - 0.5)::numeric * 10::numeric ^ floor(random() * 40 - 20)::int, floor(random() * 25)::int))
    WHEN 2 THEN (ARRAY['null', 'true', 'false'])[1 + floor(random() * 3)::int]::jsonb
    WHEN 3 THEN to_jsonb(floor(random() * 1e6)::bigint)
    WHEN 4 THEN (SELECT coalesce(jsonb_agg(pg_temp.rand_json(depth + 1)), '[]') FROM generate_series(1, floor(random() * 4)::int))
    ELSE (SELECT coalesce(jsonb_object_agg(str || g, pg_temp.rand_json(depth + 1)), '{}') FROM generate_series(1, floor(random() * 4)::int) g)
  END;
END $f$;
WITH docs AS (
  SELECT jsonb_build_object('pad', repeat('p', 64), 'v', pg_temp.rand_json(0)) AS d,
         jsonb_build_object('m', pg_temp.rand_json(2)) AS m
  FROM generate_series(1, 300)
), checked AS (
  SELECT pg_temp.fits(d, m, octet_length(d::text) + octet_length(m::text)) AS at_length,
         pg_temp.fits(d, m, octet_length(d::text) + octet_length(m::text) - 1) AS one_less
  FROM docs
)
SELECT count(*) AS documents, count(*) FILTER (WHERE at_length = 'fits') AS fit_at_length,
       count(*) FILTER (WHERE one_less = 'ES413') AS refused_one_byte_under
FROM checked;
RESET es_saas.max_event_bytes;
-- generated event ids: version-4 UUIDs, never repeated, within a batch and
-- across the per-backend pool's refills (64 ids a draw)
SELECT count(*) FROM generate_series(1, 3) b, LATERAL es_append('app', 'ids-gen', NULL,
  (SELECT jsonb_agg(jsonb_build_object('type', 'A', 'data', b * 1000 + i)) FROM generate_series(1, 100) i));
SELECT count(*) AS events, count(DISTINCT id) AS distinct_ids,
       count(*) FILTER (WHERE id::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$') AS version_4
FROM es_read_stream('app', 'ids-gen');
-- clients cannot raise their own limits
SET ROLE regress_user_a;
SELECT regress_try($$SET es_saas.max_batch_events = 100000$$);
RESET ROLE;

-- NOTIFY carries no tenant data
SET es_saas.notify = on;

SELECT version FROM es_append('app', 'notify-1', NULL, '[{"type":"A","data":1}]');
RESET es_saas.notify;


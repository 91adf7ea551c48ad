-- One event shape: the jsonb an inline projection handler receives for an
-- event equals to_jsonb(e) of the same event read back with es_read_stream
-- (es_event rows: what the gateway turns into JSON), and the built-in queries
-- return the same objects.  Covers events with and without metadata and id,
-- big and decimal numbers, unicode, null data, appended directly and by a
-- command.
\set ECHO none
\i sql/fixtures/setup.psql
\set ECHO all

SELECT es_create_tenant('shape') ->> 'id' AS id;
-- an inline projection that keeps every event it is given
CREATE TABLE regress_shape_seen (event jsonb NOT NULL);
CREATE FUNCTION regress_shape_capture(tenant text, event jsonb) RETURNS void
LANGUAGE sql AS $$ INSERT INTO regress_shape_seen VALUES (event) $$;
SELECT es_register_projection('shape_capture', 'regress_shape_capture(text,jsonb)', NULL, 'inline');

SELECT version FROM es_append('shape', 'order-1', 0, '[
	{"type": "Created", "data": {"total": 10.50, "big": 12345678901234567890, "nested": {"a": [1, 2]}}},
	{"type": "Noted", "data": "text", "metadata": {"user": "u1"}, "id": "5a000000-0000-4000-8000-000000000001"}]');
SELECT es_execute('shape', '{"type": "append", "stream": "order-1", "id": "5c000000-0000-4000-8000-000000000001", "events": [
	{"type": "Paid", "data": null, "metadata": null},
	{"type": "Ünïcode", "data": [1, {"a": "🚀"}]}]}') ->> 'version' AS version;
SELECT version FROM es_append('shape', 'other-1', NULL, '[{"type": "Other", "data": {}}]');

-- the handler saw each event once
SELECT count(*) AS seen, count(DISTINCT event ->> 'position') AS distinct_positions FROM regress_shape_seen;
-- what it saw is to_jsonb of the es_event row, for every event
SELECT e.position, e.type, s.event = to_jsonb(e) AS handler_equals_to_jsonb
FROM es_read_log('shape') e
LEFT JOIN regress_shape_seen s ON (s.event ->> 'position')::bigint = e.position
ORDER BY e.position;
-- which keys that is: the contract's event keys, nothing else
SELECT array_agg(k ORDER BY k) AS keys
FROM jsonb_object_keys((SELECT event FROM regress_shape_seen WHERE event ->> 'type' = 'Noted')) k;
-- es_read_stream, es_read_log and es_read_category give the same rows
SELECT (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.position) FROM es_read_stream('shape', 'order-1') e)
	= (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.position) FROM es_read_log('shape') e WHERE e.stream = 'order-1') AS stream_equals_log,
	(SELECT jsonb_agg(to_jsonb(e) ORDER BY e.position) FROM es_read_stream('shape', 'order-1') e)
	= (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.position) FROM es_read_category('shape', 'order') e) AS stream_equals_category;
-- the built-in queries return the same objects
SELECT (SELECT jsonb_agg(to_jsonb(e) ORDER BY e.position) FROM es_read_stream('shape', 'order-1') e)
	= es_query('shape', '{"type": "stream", "stream": "order-1"}') -> 'events' AS stream_query,
	(SELECT jsonb_agg(to_jsonb(e) ORDER BY e.position) FROM es_read_log('shape') e)
	= es_query('shape', '{"type": "log"}') -> 'events' AS log_query,
	(SELECT jsonb_agg(to_jsonb(e) ORDER BY e.position) FROM es_read_category('shape', 'order') e)
	= es_query('shape', '{"type": "category", "category": "order"}') -> 'events' AS category_query;
-- a command's result lists its events by id, type, version and position only
-- (the contract's result shape), taken from the same rows
SELECT (SELECT jsonb_agg(jsonb_build_object('id', e.id, 'type', e.type, 'version', e.version,
		'position', e.position) ORDER BY e.position) FROM es_read_stream('shape', 'order-1', 3) e)
	= es_get_command('shape', '5c000000-0000-4000-8000-000000000001') -> 'events' AS command_result_events;

-- clean up
SELECT es_unregister('projection', 'shape_capture');
DROP FUNCTION regress_shape_capture(text, jsonb);
DROP TABLE regress_shape_seen;

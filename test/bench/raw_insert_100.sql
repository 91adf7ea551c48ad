-- baseline: 100 rows per transaction (point 2)
\set tenant random(:tmin, :tmax)
\set stream random(1, :smax)
INSERT INTO bench.raw_events (tenant_id, position, stream, version, type, data, metadata, id, recorded_at, category, batch_size, batch_index)
  SELECT 't' || :tenant, p, 's-' || :stream, p, 'Bench', '{"order_id":"ord-000012345","customer_id":"cus-000000042","amount":129.95,"currency":"EUR","items":[{"sku":"SKU-000001","qty":2,"price":49.99},{"sku":"SKU-000002","qty":1,"price":29.97}],"channel":"web"}'::jsonb, '{}'::jsonb, gen_random_uuid(), now(), 's', 100, 0
  FROM (SELECT nextval('bench.raw_seq') AS p FROM generate_series(1, 100)) AS g;

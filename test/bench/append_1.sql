-- es_saas: one event per transaction (point 1 and 4).  -D tmin/tmax/smax set the tenant and stream ranges.
\set tenant random(:tmin, :tmax)
\set stream random(1, :smax)
SELECT * FROM es_append('t' || :tenant, 's-' || :stream, NULL, '[{"type":"Bench","data":{"order_id":"ord-000012345","customer_id":"cus-000000042","amount":129.95,"currency":"EUR","items":[{"sku":"SKU-000001","qty":2,"price":49.99},{"sku":"SKU-000002","qty":1,"price":29.97}],"channel":"web"}}]');

-- baseline: the same rows and columns straight from es_saas.events, as superuser (point 3)
SELECT position, stream, version, type, data, metadata, id, recorded_at
  FROM es_saas.events
 WHERE tenant_id = 't1' AND stream = 'r-1' AND version >= 1
 ORDER BY version LIMIT 1000;

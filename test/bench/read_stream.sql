-- es_saas: read a 1,000-event stream (point 3)
SELECT * FROM es_read_stream('t1', 'r-1', 1, 1000);

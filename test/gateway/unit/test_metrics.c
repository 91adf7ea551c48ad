/* test_metrics.c - Prometheus text: names, labels, histogram buckets. */
#include <stdlib.h>

#include "metrics.h"
#include "tap.h"

int
main(void)
{
	es_buf b;

	es_metrics_observe("GET", "/api/v1/streams/{stream}", 200, 0.003);
	es_metrics_observe("GET", "/api/v1/streams/{stream}", 200, 0.2);
	es_metrics_observe("GET", "/api/v1/streams/{stream}", 404, 0.001);
	es_metrics_observe("POST", "/api/v1/commands/execute", 409, 12.0);
	es_buf_init(&b);
	es_metrics_render(&b, 8, 7, 0, 0);
	ok(strstr(b.data, "# TYPE http_requests_total counter\n") != NULL, "counter TYPE line");
	ok(strstr(b.data, "http_requests_total{method=\"GET\",endpoint=\"/api/v1/streams/{stream}\",status_code=\"200\"} 2\n") != NULL,
	   "counter by template and status");
	ok(strstr(b.data, "status_code=\"404\"} 1\n") != NULL, "404 counted separately");
	ok(strstr(b.data, "# TYPE http_request_duration_seconds histogram\n") != NULL, "histogram TYPE line");
	ok(strstr(b.data, "http_request_duration_seconds_bucket{method=\"GET\",endpoint=\"/api/v1/streams/{stream}\",le=\"0.005\"} 2\n") != NULL,
	   "cumulative bucket 0.005 = 2");
	ok(strstr(b.data, "http_request_duration_seconds_bucket{method=\"GET\",endpoint=\"/api/v1/streams/{stream}\",le=\"+Inf\"} 3\n") != NULL,
	   "+Inf bucket = count");
	ok(strstr(b.data, "http_request_duration_seconds_bucket{method=\"POST\",endpoint=\"/api/v1/commands/execute\",le=\"10\"} 0\n") != NULL,
	   "12 s is above the 10 s bucket");
	ok(strstr(b.data, "http_request_duration_seconds_count{method=\"POST\",endpoint=\"/api/v1/commands/execute\"} 1\n") != NULL,
	   "histogram count");
	ok(strstr(b.data, "circuit_breaker_state{service=\"event_store\"} 0\n") != NULL, "breaker gauge event_store");
	ok(strstr(b.data, "circuit_breaker_state{service=\"query_handler\"} 0\n") != NULL, "breaker gauge query_handler");
	ok(strstr(b.data, "db_pool_size 8\n") != NULL && strstr(b.data, "db_pool_available 7\n") != NULL, "pool gauges");
	es_buf_free(&b);
	es_metrics_observe("GET", "weird\"label\\", 200, 0.1);
	es_buf_init(&b);
	es_metrics_render(&b, 1, 1, 0, 0);
	ok(strstr(b.data, "endpoint=\"weird\\\"label\\\\\"") != NULL, "label values escaped");
	es_buf_free(&b);
	es_metrics_reset();
	es_buf_init(&b);
	es_metrics_render(&b, 1, 1, 0, 0);
	ok(strstr(b.data, "http_requests_total{") == NULL, "reset clears series");
	es_buf_free(&b);
	return done_testing();
}

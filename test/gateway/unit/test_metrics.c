/* test_metrics.c - Prometheus text: names, labels, histogram buckets. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "metrics.h"

static void
test_render(void **state)
{
	es_buf b;

	(void) state;
	es_metrics_observe("GET", "/api/v1/streams/{stream}", 200, 0.003);
	es_metrics_observe("GET", "/api/v1/streams/{stream}", 200, 0.2);
	es_metrics_observe("GET", "/api/v1/streams/{stream}", 404, 0.001);
	es_metrics_observe("POST", "/api/v1/commands/execute", 409, 12.0);
	es_buf_init(&b);
	es_metrics_render(&b, 8, 7, 0, 0);
	assert_non_null(b.data);
	/* counter TYPE line */
	assert_non_null(strstr(b.data, "# TYPE http_requests_total counter\n"));
	/* counter by template and status */
	assert_non_null(
		strstr(b.data, "http_requests_total{method=\"GET\",endpoint=\"/api/v1/streams/{stream}\",status_code=\"200\"} 2\n"));
	/* 404 counted separately */
	assert_non_null(strstr(b.data, "status_code=\"404\"} 1\n"));
	/* histogram TYPE line */
	assert_non_null(strstr(b.data, "# TYPE http_request_duration_seconds histogram\n"));
	/* cumulative bucket 0.005 = 2 */
	assert_non_null(
		strstr(b.data, "http_request_duration_seconds_bucket{method=\"GET\",endpoint=\"/api/v1/streams/{stream}\",le=\"0.005\"} 2\n"));
	/* +Inf bucket = count */
	assert_non_null(
		strstr(b.data, "http_request_duration_seconds_bucket{method=\"GET\",endpoint=\"/api/v1/streams/{stream}\",le=\"+Inf\"} 3\n"));
	/* 12 s is above the 10 s bucket */
	assert_non_null(
		strstr(b.data, "http_request_duration_seconds_bucket{method=\"POST\",endpoint=\"/api/v1/commands/execute\",le=\"10\"} 0\n"));
	/* histogram count */
	assert_non_null(
		strstr(b.data, "http_request_duration_seconds_count{method=\"POST\",endpoint=\"/api/v1/commands/execute\"} 1\n"));
	/* breaker gauges */
	assert_non_null(
		strstr(b.data, "circuit_breaker_state{service=\"event_store\"} 0\n"));
	assert_non_null(
		strstr(b.data, "circuit_breaker_state{service=\"query_handler\"} 0\n"));
	/* pool gauges */
	assert_non_null(strstr(b.data, "db_pool_size 8\n"));
	assert_non_null(strstr(b.data, "db_pool_available 7\n"));
	es_buf_free(&b);
}

static void
test_label_escaping(void **state)
{
	es_buf b;

	(void) state;
	es_metrics_observe("GET", "weird\"label\\", 200, 0.1);
	es_buf_init(&b);
	es_metrics_render(&b, 1, 1, 0, 0);
	assert_non_null(b.data);
	/* label values escaped */
	assert_non_null(strstr(b.data, "endpoint=\"weird\\\"label\\\\\""));
	es_buf_free(&b);
}

/* runs after the tests above, so there are series to clear */
static void
test_reset(void **state)
{
	es_buf b;

	(void) state;
	es_metrics_reset();
	es_buf_init(&b);
	es_metrics_render(&b, 1, 1, 0, 0);
	assert_non_null(b.data);
	/* reset clears series */
	assert_null(strstr(b.data, "http_requests_total{"));
	es_buf_free(&b);
}

/* process_* from /proc/self, build info, the SSE gauge */
static void
test_process_and_gauges(void **state)
{
	es_buf		b;
	const char *p;
	double		start;

	(void) state;
	es_buf_init(&b);
	es_metrics_render_sse(&b, 3);
	es_metrics_render_process(&b, "9.8.7");
	assert_non_null(b.data);
	assert_non_null(
		strstr(b.data, "# TYPE es_gateway_sse_subscribers gauge\nes_gateway_sse_subscribers 3\n"));
	assert_non_null(strstr(b.data, "# TYPE process_cpu_seconds_total counter\n"));
	assert_non_null(strstr(b.data, "\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(b.data, "\nprocess_virtual_memory_bytes "));
	assert_non_null(strstr(b.data, "\nprocess_open_fds "));
	assert_non_null(strstr(b.data, "\nprocess_max_fds "));
	assert_non_null(strstr(b.data, "es_gateway_build_info{version=\"9.8.7\"} 1\n"));
	/* the start time is this process's: within the last hour */
	p = strstr(b.data, "\nprocess_start_time_seconds ");
	assert_non_null(p);
	start = strtod(p + strlen("\nprocess_start_time_seconds "), NULL);
	assert_true(start <= (double) time(NULL) + 1 && start > (double) time(NULL) - 3600);
	/* resident memory is above 0 and below virtual */
	p = strstr(b.data, "\nprocess_resident_memory_bytes ");
	assert_true(strtod(p + strlen("\nprocess_resident_memory_bytes "), NULL) > 0);
	es_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_process_and_gauges),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}

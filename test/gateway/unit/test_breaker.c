/* test_breaker.c - circuit breaker state machine (with a fake clock) and the
 * retry policy: what is retried, what counts, backoff bounds, command ids. */
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "breaker.h"
#include "retry.h"
#include "util.h"

static long long fake_now;

static long long
fake_clock(void)
{
	return fake_now;
}

static int
allow(int *probe, int *ra)
{
	return es_breaker_allow(ES_BREAKER_QUERY_HANDLER, probe, ra);
}

static void
test_breaker_cycle(void **state)
{
	int	   probe, ra;
	es_buf b;

	(void) state;
	fake_now = 1000000;
	es_breaker_set_clock(fake_clock);
	es_breaker_configure(ES_BREAKER_QUERY_HANDLER, 3, 30, 1);
	/* two failures, a success resets the count */
	for (int i = 0; i < 2; i++)
	{
		assert_true(allow(&probe, &ra));
		es_breaker_record(ES_BREAKER_QUERY_HANDLER, probe, ES_BREAKER_FAILURE);
	}
	assert_true(allow(&probe, &ra));
	es_breaker_record(ES_BREAKER_QUERY_HANDLER, probe, ES_BREAKER_SUCCESS);
	assert_int_equal(es_breaker_state_of(ES_BREAKER_QUERY_HANDLER), ES_BREAKER_CLOSED);
	/* three consecutive failures open it */
	for (int i = 0; i < 3; i++)
	{
		assert_true(allow(&probe, &ra));
		assert_int_equal(probe, 0);
		es_breaker_record(ES_BREAKER_QUERY_HANDLER, probe, ES_BREAKER_FAILURE);
	}
	assert_int_equal(es_breaker_state_of(ES_BREAKER_QUERY_HANDLER), ES_BREAKER_OPEN);
	assert_false(allow(&probe, &ra));
	assert_int_equal(ra, 30);
	fake_now += 12500;
	assert_false(allow(&probe, &ra));
	assert_int_equal(ra, 18); /* 17.5 s rounded up */
	/* after 30 s: half-open, one probe, the next caller is refused */
	fake_now += 17500;
	assert_true(allow(&probe, &ra));
	assert_int_equal(probe, 1);
	assert_false(allow(&probe, &ra));
	assert_int_equal(ra, 1);
	/* the probe fails: open again for a full period */
	es_breaker_record(ES_BREAKER_QUERY_HANDLER, 1, ES_BREAKER_FAILURE);
	assert_int_equal(es_breaker_state_of(ES_BREAKER_QUERY_HANDLER), ES_BREAKER_OPEN);
	assert_false(allow(&probe, &ra));
	assert_int_equal(ra, 30);
	/* next probe succeeds: closed */
	fake_now += 30000;
	assert_true(allow(&probe, &ra));
	assert_int_equal(probe, 1);
	es_breaker_record(ES_BREAKER_QUERY_HANDLER, 1, ES_BREAKER_SUCCESS);
	assert_int_equal(es_breaker_state_of(ES_BREAKER_QUERY_HANDLER), ES_BREAKER_CLOSED);
	assert_true(allow(&probe, &ra));
	assert_int_equal(probe, 0);
	es_breaker_record(ES_BREAKER_QUERY_HANDLER, 0, ES_BREAKER_SUCCESS);
	/* transitions are counted */
	es_buf_init(&b);
	es_breaker_render(&b);
	assert_non_null(
		strstr(b.data, "es_gateway_circuit_breaker_transitions_total{service="
					   "\"query_handler\",from=\"closed\",to=\"open\"} 1\n"));
	assert_non_null(
		strstr(b.data, "{service=\"query_handler\",from=\"half_open\",to=\"open\"} 1\n"));
	assert_non_null(
		strstr(b.data, "{service=\"query_handler\",from=\"open\",to=\"half_open\"} 2\n"));
	assert_non_null(
		strstr(b.data, "{service=\"query_handler\",from=\"half_open\",to=\"closed\"} 1\n"));
	assert_non_null(
		strstr(b.data, "{service=\"event_store\",from=\"closed\",to=\"open\"} 0\n"));
	free(b.data);
	es_breaker_set_clock(NULL);
}

/* an abandoned probe frees its slot; other outcomes of non-probes while
 * half-open change nothing */
static void
test_breaker_abandoned_probe(void **state)
{
	int probe, ra;

	(void) state;
	fake_now = 5000000;
	es_breaker_set_clock(fake_clock);
	es_breaker_configure(ES_BREAKER_EVENT_STORE, 1, 2, 1);
	assert_true(es_breaker_allow(ES_BREAKER_EVENT_STORE, &probe, &ra));
	es_breaker_record(ES_BREAKER_EVENT_STORE, probe, ES_BREAKER_FAILURE);
	fake_now += 2000;
	assert_true(es_breaker_allow(ES_BREAKER_EVENT_STORE, &probe, &ra));
	assert_int_equal(probe, 1);
	es_breaker_record(ES_BREAKER_EVENT_STORE, 1, ES_BREAKER_ABANDONED);
	assert_int_equal(es_breaker_state_of(ES_BREAKER_EVENT_STORE), ES_BREAKER_HALF_OPEN);
	assert_true(es_breaker_allow(ES_BREAKER_EVENT_STORE, &probe, &ra));
	assert_int_equal(probe, 1);
	es_breaker_record(ES_BREAKER_EVENT_STORE, 1, ES_BREAKER_SUCCESS);
	assert_int_equal(es_breaker_state_of(ES_BREAKER_EVENT_STORE), ES_BREAKER_CLOSED);
	es_breaker_set_clock(NULL);
}

static void
test_retry_policy(void **state)
{
	(void) state;
	/* nothing was sent: always retryable */
	assert_string_equal(es_retry_reason(ES_ATTEMPT_NOT_SENT, "08006", 0), "connection");
	/* outcome unknown: only when idempotent */
	assert_null(es_retry_reason(ES_ATTEMPT_LOST, "08006", 0));
	assert_string_equal(es_retry_reason(ES_ATTEMPT_LOST, "08006", 1), "connection");
	/* server errors abort the transaction */
	assert_string_equal(es_retry_reason(ES_ATTEMPT_SERVER_ERROR, "57P01", 0),
						"admin_shutdown");
	assert_string_equal(es_retry_reason(ES_ATTEMPT_SERVER_ERROR, "40001", 0),
						"serialization");
	assert_string_equal(es_retry_reason(ES_ATTEMPT_SERVER_ERROR, "40P01", 0),
						"deadlock");
	assert_string_equal(es_retry_reason(ES_ATTEMPT_SERVER_ERROR, "53300", 0),
						"too_many_connections");
	/* never ESnnn, timeouts, pool exhaustion */
	assert_null(es_retry_reason(ES_ATTEMPT_SERVER_ERROR, "ES409", 1));
	assert_null(es_retry_reason(ES_ATTEMPT_SERVER_ERROR, "ES503", 1));
	assert_null(es_retry_reason(ES_ATTEMPT_SERVER_ERROR, "57014", 1));
	assert_null(es_retry_reason(ES_ATTEMPT_TIMEOUT, NULL, 1));
	assert_null(es_retry_reason(ES_ATTEMPT_POOL, NULL, 1));
	/* breaker counting: infrastructure only */
	assert_true(es_retry_is_infra(ES_ATTEMPT_LOST, "08006"));
	assert_true(es_retry_is_infra(ES_ATTEMPT_POOL, NULL));
	assert_true(es_retry_is_infra(ES_ATTEMPT_SERVER_ERROR, "57P01"));
	assert_true(es_retry_is_infra(ES_ATTEMPT_SERVER_ERROR, "53300"));
	assert_true(es_retry_is_infra(ES_ATTEMPT_SERVER_ERROR, "57014"));
	assert_false(es_retry_is_infra(ES_ATTEMPT_SERVER_ERROR, "ES409"));
	assert_false(es_retry_is_infra(ES_ATTEMPT_SERVER_ERROR, "ES422"));
	assert_false(es_retry_is_infra(ES_ATTEMPT_SERVER_ERROR, "40001"));
	assert_false(es_retry_is_infra(ES_ATTEMPT_SERVER_ERROR, "22P02"));
}

static void
test_backoff_and_ids(void **state)
{
	es_retry_policy p = {3, 1000, 2};
	unsigned int	seed = 42;
	char			a[37], b[37];
	es_buf			m;

	(void) state;
	for (int i = 0; i < 200; i++)
		for (int n = 1; n <= 3; n++)
		{
			long long base = 1000LL << (n - 1);
			long long d = es_retry_backoff_ms(&p, n, &seed);

			assert_true(d >= base * 3 / 4 && d <= base * 5 / 4);
		}
	es_uuid_generate(a);
	es_uuid_generate(b);
	assert_true(es_uuid_valid(a));
	assert_int_equal(a[14], '4');
	assert_string_not_equal(a, b);
	es_retry_count("query_handler", "connection");
	es_retry_count("event_store", "deadlock");
	es_buf_init(&m);
	es_retry_render(&m);
	assert_non_null(strstr(m.data, "es_gateway_db_retries_total{service=\"query_handler\","
								   "reason=\"connection\"} 1\n"));
	assert_non_null(strstr(m.data, "{service=\"event_store\",reason=\"deadlock\"} 1\n"));
	assert_non_null(
		strstr(m.data, "{service=\"event_store\",reason=\"connection\"} 0\n"));
	free(m.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_breaker_cycle),
		cmocka_unit_test(test_breaker_abandoned_probe),
		cmocka_unit_test(test_retry_policy),
		cmocka_unit_test(test_backoff_and_ids),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

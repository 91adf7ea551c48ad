/* test_errors.c - the SQLSTATE -> HTTP table and the error body shape. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "errors.h"

/* sqlstate -> status and code; no SQLSTATE may ever produce a 500 */
static void
check(const char *ss, const char *msg, const char *detail, int status, const char *code)
{
	es_error e = {0};

	es_error_from_sqlstate(&e, ss, msg, detail);
	print_message("# %s -> %d %s\n", ss ? ss : "(null)", status, code);
	assert_int_equal(e.http_status, status);
	assert_string_equal(e.code, code);
	assert_int_not_equal(e.http_status, 500); /* never 500 */
	es_error_clear(&e);
}

static void
test_sqlstate_es_codes(void **state)
{
	(void) state;
	check("ES400", "invalid tenant id", NULL, 400, "malformed_request");
	check("ES403", "no", NULL, 403, "forbidden");
	check("ES404", "tenant does not exist", "{\"tenant\":\"x\"}", 404, "not_found");
	check("ES409", "wrong expected version",
		  "{\"reason\": \"wrong_expected_version\", \"current_version\": 3}",
		  409, "wrong_expected_version");
	check("ES409", "duplicate",
		  "{\"reason\": \"duplicate_id\", \"event_id\": \"x\"}", 409, "conflict");
	check("ES409", "duplicate", "not json", 409, "conflict");
	check("ES422", "command rejected: out of stock",
		  "{\"reason\": \"command_rejected\"}", 422, "command_rejected");
	check("ES422", "invalid event", "{\"reason\": \"invalid_event\"}", 422,
		  "invalid_content");
	check("ES423", "tenant suspended", NULL, 423, "tenant_suspended");
	/* size limits are 413 (not worth retrying); 429 stays for rate limits */
	check("ES413", "too many events", "{\"reason\": \"batch_too_large\", \"max\": 1000}",
		  413, "payload_too_large");
	check("ES413", "events[0] is too large",
		  "{\"reason\": \"event_too_large\"}", 413, "payload_too_large");
	check("ES429", "rate limited", NULL, 429, "limit_exceeded");
	check("ES500", "odd", NULL, 503, "unavailable");
	check("ES504", "odd", NULL, 504, "timeout");
}

/* The code comes from SQLSTATE + details.reason only, never from wording. */
static void
test_sqlstate_reason_only(void **state)
{
	(void) state;
	/* without a reason: the status's default code, whatever the words say */
	check("ES409", "wrong expected version", "{\"current_version\": 3}", 409,
		  "conflict");
	check("ES409", "wrong expected version", "{\"current_version\": null}",
		  409, "conflict");
	check("ES409", "wrong expected version", NULL, 409, "conflict");
	check("ES422", "command rejected: out of stock", NULL, 422, "invalid_content");
	check("ES422", "command rejected: out of stock", "{\"why\": \"stock\"}",
		  422, "invalid_content");
	/* a reason that is not a string, or belongs to another status, is ignored
	 */
	check("ES409", "x", "{\"reason\": 1}", 409, "conflict");
	check("ES409", "x",
		  "{\"reason\": \"command_retries_exhausted\", \"current_version\": 9}",
		  409, "wrong_expected_version");
	check("ES409", "x", "{\"reason\": \"command_rejected\"}", 409, "conflict");
	check("ES422", "x", "{\"reason\": \"wrong_expected_version\"}", 422,
		  "invalid_content");
	check("ES422", "x", "{\"reason\": \"Command_Rejected\"}", 422, "invalid_content");
	/* message wording never matters */
	check("ES422", "anything at all",
		  "{\"reason\": \"command_rejected\", \"message\": \"no\"}", 422,
		  "command_rejected");
	check("ES409", "", "{\"reason\": \"wrong_expected_version\"}", 409,
		  "wrong_expected_version");
	/* reason does not change other ES statuses */
	check("ES404", "x", "{\"reason\": \"wrong_expected_version\"}", 404, "not_found");
}

static void
test_sqlstate_postgres_codes(void **state)
{
	(void) state;
	check("08006", "conn lost", NULL, 503, "unavailable");
	check("08001", NULL, NULL, 503, "unavailable");
	check("57P01", "admin shutdown", NULL, 503, "unavailable");
	check("57014", "canceling statement due to statement timeout", NULL, 504, "timeout");
	check("40001", "serialization", NULL, 503, "unavailable");
	check("40P01", "deadlock", NULL, 503, "unavailable");
	check("53300", "too many connections", NULL, 503, "unavailable");
	check("22P02", "invalid input syntax for type json", NULL, 400, "malformed_request");
	check("54001", "stack depth limit exceeded", NULL, 400, "malformed_request");
	check("23505", "duplicate key", NULL, 409, "conflict");
	check("XX000", "internal", NULL, 503, "unavailable");
	check("42883", "function does not exist", NULL, 503, "unavailable");
}

static void
test_sqlstate_missing_or_odd(void **state)
{
	(void) state;
	check(NULL, NULL, NULL, 503, "unavailable");
	check("", NULL, NULL, 503, "unavailable");
	check("ESabc", NULL, NULL, 503, "unavailable");
}

/* details parsed from errdetail, message kept for ES codes only */
static void
test_body_es_details(void **state)
{
	es_error e = {0};
	char	*body;
	cJSON	*j, *d, *cv;

	(void) state;
	es_error_from_sqlstate(&e, "ES409", "wrong expected version",
						   "{\"reason\": \"wrong_expected_version\", \"current_version\": 3}");
	body = es_error_body(&e);
	assert_non_null(body);
	j = cJSON_Parse(body);
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "details");
	cv = cJSON_GetObjectItem(d, "current_version");
	assert_non_null(cv); /* details.current_version = 3 */
	assert_int_equal(cv->valueint, 3);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d, "reason")),
						"wrong_expected_version"); /* details passed through,
													  reason included */
	assert_string_equal(cJSON_GetStringValue(
							cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"),
												"message")),
						"wrong expected version"); /* ES message passed through
													*/
	cJSON_Delete(j);
	free(body);
	es_error_clear(&e);
}

static void
test_body_hides_internal(void **state)
{
	es_error e = {0};
	char	*body;

	(void) state;
	es_error_from_sqlstate(&e, "42P01", "relation \"secret_table\" does not exist",
						   "internal detail");
	body = es_error_body(&e);
	assert_non_null(body);
	print_message("# body: %s\n", body);
	/* non-ES message and detail are not leaked */
	assert_null(strstr(body, "secret_table"));
	assert_null(strstr(body, "internal detail"));
	assert_non_null(strstr(body, "\"details\":{}")); /* details is an empty
														object */
	free(body);
	assert_int_equal(e.retry_after, 5); /* 503 carries Retry-After */
	es_error_clear(&e);
}

static void
test_error_set_and_codes(void **state)
{
	es_error e = {0};

	(void) state;
	es_error_set(&e, 413, NULL, "too big %d", 5);
	assert_string_equal(e.code, "payload_too_large"); /* default code for 413
													   */
	assert_string_equal(e.message, "too big 5");	  /* formatted message */
	es_error_clear(&e);
	/* civetweb's 505 (HTTP/2.0, HTTP/9.9 request lines) has its own code */
	assert_string_equal(es_error_code_for_status(505), "http_version_not_supported");
	assert_string_equal(es_error_code_for_status(415), "unsupported_media_type");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqlstate_es_codes),
		cmocka_unit_test(test_sqlstate_reason_only),
		cmocka_unit_test(test_sqlstate_postgres_codes),
		cmocka_unit_test(test_sqlstate_missing_or_odd),
		cmocka_unit_test(test_body_es_details),
		cmocka_unit_test(test_body_hides_internal),
		cmocka_unit_test(test_error_set_and_codes),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}

/* test_cache.c - the pure parts of the fallback cache: If-None-Match
 * matching, which errors a stale answer may replace, and the canonical
 * JSON that keys queries. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cache.h"

static void
test_etag_matches(void **state)
{
	(void) state;
	assert_true(es_cache_etag_matches("\"v1\"", "\"v1\""));
	assert_true(es_cache_etag_matches("*", "\"v1\""));
	assert_true(es_cache_etag_matches("W/\"v1\"", "\"v1\""));
	assert_true(es_cache_etag_matches("\"v0\", W/\"v1\"", "\"v1\""));
	assert_true(es_cache_etag_matches(" \"a\" ,\t\"v1\" ", "\"v1\""));
	assert_false(es_cache_etag_matches("\"v10\"", "\"v1\""));
	assert_false(es_cache_etag_matches("\"v1", "\"v1\""));
	assert_false(es_cache_etag_matches("v1", "\"v1\""));
	assert_false(es_cache_etag_matches("", "\"v1\""));
	assert_false(es_cache_etag_matches(",,,", "\"v1\""));
	assert_false(es_cache_etag_matches(NULL, "\"v1\""));
	assert_false(es_cache_etag_matches("*", ""));
	assert_false(es_cache_etag_matches("W/", "\"v1\""));
}

static void
test_infra_error(void **state)
{
	es_error e = {0};

	(void) state;
	e.http_status = 503;
	assert_true(es_cache_is_infra_error(&e)); /* pool exhausted, breaker */
	memcpy(e.sqlstate, "08006", 6);
	assert_true(es_cache_is_infra_error(&e));
	e.http_status = 504;
	memcpy(e.sqlstate, "57014", 6);
	assert_true(es_cache_is_infra_error(&e));
	/* an answer of the extension is an answer, not a failure */
	e.http_status = 503;
	memcpy(e.sqlstate, "ES503", 6);
	assert_false(es_cache_is_infra_error(&e));
	e.http_status = 404;
	memcpy(e.sqlstate, "ES404", 6);
	assert_false(es_cache_is_infra_error(&e));
	e.http_status = 400;
	e.sqlstate[0] = '\0';
	assert_false(es_cache_is_infra_error(&e));
}

static void
expect_canonical(const char *in, const char *want)
{
	cJSON *j = cJSON_Parse(in);
	char  *got;

	assert_non_null(j);
	got = es_cache_canonical_json(j);
	assert_string_equal(got, want);
	free(got);
	cJSON_Delete(j);
}

static void
test_canonical_json(void **state)
{
	(void) state;
	expect_canonical("{\"type\": \"stream\",  \"stream\": \"s1\"}",
					 "{\"stream\":\"s1\",\"type\":\"stream\"}");
	expect_canonical("{\"b\":{\"y\":1,\"x\":[3, {\"k\":null,\"a\":true}]},\"a\":\"\\u00e9\\n\"}",
					 "{\"a\":\"\xc3\xa9\\n\",\"b\":{\"x\":[3,{\"a\":true,\"k\":null}],\"y\":1}}");
	/* a repeated key counts once, with its last value (jsonb) */
	expect_canonical("{\"a\":1,\"b\":2,\"a\":3}", "{\"a\":3,\"b\":2}");
	expect_canonical("{}", "{}");
	expect_canonical("[]", "[]");
	expect_canonical("\"x\"", "\"x\"");
	expect_canonical("12.5", "12.5");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etag_matches),
		cmocka_unit_test(test_infra_error),
		cmocka_unit_test(test_canonical_json),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("cache", tests, NULL, NULL);
}

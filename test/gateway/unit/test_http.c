/* test_http.c - content-type check (415) and JSON body parsing rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "http.h"

static es_status
parse(const char *body, size_t len)
{
	es_request req;
	es_error err = {0};
	es_status st;

	memset(&req, 0, sizeof(req));
	req.body = malloc(len + 1);
	memcpy(req.body, body, len);
	req.body[len] = '\0';
	req.body_len = len;
	st = es_http_parse_json(&req, &err);
	if (st != ES_OK && (err.http_status != 400 || strcmp(err.code, "malformed_request") != 0))
		print_message("# unexpected error %d %s\n", err.http_status, err.code);
	es_error_clear(&err);
	es_request_free(&req);
	return st;
}

static void
test_content_type(void **state)
{
	es_error e = {0};

	(void) state;
	/* application/json accepted */
	assert_int_equal(es_http_check_json_type("application/json", &e), ES_OK);
	/* case-insensitive, parameters allowed */
	assert_int_equal(es_http_check_json_type("Application/JSON; charset=utf-8", &e), ES_OK);
	/* missing Content-Type: 415 */
	assert_int_equal(es_http_check_json_type(NULL, &e), ES_FAIL);
	assert_int_equal(e.http_status, 415);
	/* text/plain: unsupported_media_type */
	assert_int_equal(es_http_check_json_type("text/plain", &e), ES_FAIL);
	assert_string_equal(e.code, "unsupported_media_type");
	/* application/jsonp refused */
	assert_int_equal(es_http_check_json_type("application/jsonp", &e), ES_FAIL);
	/* json-patch refused */
	assert_int_equal(es_http_check_json_type("application/json-patch+json", &e), ES_FAIL);
	/* multipart refused */
	assert_int_equal(es_http_check_json_type("multipart/form-data; boundary=x", &e), ES_FAIL);
	es_error_clear(&e);
}

static void
test_json_body(void **state)
{
	(void) state;
	assert_int_equal(parse("{\"a\":1}", 7), ES_OK);				/* object parses */
	assert_int_equal(parse("  {\"a\":[1,2]}  \n", 16), ES_OK);	/* surrounding whitespace ok */
	assert_int_equal(parse("{\"a\":1} x", 9), ES_FAIL);			/* trailing garbage refused */
	assert_int_equal(parse("{\"a\":1}{}", 9), ES_FAIL);			/* two documents refused */
	assert_int_equal(parse("{\"a\":1", 6), ES_FAIL);				/* truncated refused */
	assert_int_equal(parse("", 0), ES_FAIL);						/* empty refused */
	assert_int_equal(parse("{\"a\":\"\xff\"}", 9), ES_FAIL);		/* invalid UTF-8 refused */
	assert_int_equal(parse("{\"a\":1}\0", 8), ES_FAIL);			/* raw NUL refused */
}

static void
test_json_depth(void **state)
{
	char *deep;

	(void) state;
	deep = malloc(2 * 200 + 1);
	assert_non_null(deep);
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	/* 200-deep nesting refused before cJSON recursion */
	assert_int_equal(parse(deep, 400), ES_FAIL);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	/* 100-deep nesting accepted */
	assert_int_equal(parse(deep, 200), ES_OK);
	free(deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_json_depth),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}

/* test_util.c - checked allocators, UTF-8, UUID, base64url, percent-decoding,
 * query params. */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"

/* The out-of-memory policy: a failed allocation aborts, never returns NULL. */
static void
test_xalloc_aborts_on_oom(void **state)
{
	pid_t pid;
	int	  ws = 0;

	(void) state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
	{
		/* an impossible size fails in malloc without touching memory */
		volatile size_t huge = (size_t) -1 / 2;

		(void) close(STDERR_FILENO);
		(void) es_xmalloc(huge);
		_exit(0); /* not reached when the policy holds */
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFSIGNALED(ws));
	assert_int_equal(WTERMSIG(ws), SIGABRT);
}

static void
test_xalloc_ok(void **state)
{
	char *s = es_xstrdup("abc");
	char *z = es_xcalloc(0, 0);
	char *r = es_xrealloc(NULL, 8);

	(void) state;
	assert_string_equal(s, "abc");
	assert_non_null(z);
	assert_non_null(r);
	free(s);
	free(z);
	free(r);
}

/* cJSON allocates through the checked allocator: a NULL is a parse error. */
static void
test_cjson_hooks(void **state)
{
	cJSON *j;
	char  *out;

	(void) state;
	es_alloc_init();
	j = cJSON_Parse("{\"a\":[1,2,{\"b\":\"c\"}]}");
	assert_non_null(j);
	out = cJSON_PrintUnformatted(j);
	assert_string_equal(out, "{\"a\":[1,2,{\"b\":\"c\"}]}");
	free(out);
	cJSON_Delete(j);
	assert_null(cJSON_Parse("{\"a\":"));
}

static void
test_utf8(void **state)
{
	(void) state;
	assert_true(es_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15)); /* valid UTF-8 */
	assert_false(es_utf8_valid("\xff", 1));			/* 0xff invalid */
	assert_false(es_utf8_valid("\xc0\xaf", 2));		/* overlong invalid */
	assert_false(es_utf8_valid("\xed\xa0\x80", 3)); /* surrogate invalid */
	assert_false(es_utf8_valid("\xe2\x82", 2)); /* truncated sequence invalid
												 */
	assert_false(es_utf8_valid("a\0b", 3));		/* NUL refused */
	assert_false(es_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF invalid
														 */
}

static void
test_json_depth(void **state)
{
	(void) state;
	assert_true(es_json_depth_ok("[[{\"a\":[1]}]]", 13, 4));  /* depth 4 within
																 4 */
	assert_false(es_json_depth_ok("[[{\"a\":[1]}]]", 13, 3)); /* depth 4 over 3
															   */
	assert_true(es_json_depth_ok("[\"[[[[\\\"[[[\"]", 16, 1)); /* brackets
																  inside
																  strings
																  ignored */
}

static void
test_uuid(void **state)
{
	(void) state;
	assert_true(es_uuid_valid("6f1c2a9e-1111-4a6b-9c1d-000000000001")); /* uuid
																		   ok
																		 */
	assert_true(es_uuid_valid("6F1C2A9E-1111-4A6B-9C1D-00000000000A")); /* uppercase
																		   uuid
																		   ok
																		 */
	assert_false(es_uuid_valid("6f1c2a9e11114a6b9c1d000000000001"));	 /* no
																			dashes
																			refused
																		  */
	assert_false(es_uuid_valid("6f1c2a9e-1111-4a6b-9c1d-00000000000g")); /* non-hex
																			refused
																		  */
	assert_false(es_uuid_valid("not-a-uuid")); /* garbage refused */
	assert_false(es_uuid_valid(NULL));		   /* NULL refused */
}

static void
test_b64url(void **state)
{
	size_t		   n;
	unsigned char *d;
	char		  *s;

	(void) state;
	/* base64url decode */
	d = es_b64url_decode("eyJhbGciOiJIUzI1NiJ9", 20, &n);
	assert_non_null(d);
	assert_int_equal(n, 15);
	assert_memory_equal(d, "{\"alg\":\"HS256\"}", 15);
	free(d);
	assert_null(es_b64url_decode("ab+/", 4, &n)); /* standard alphabet refused
												   */
	assert_null(es_b64url_decode("a", 1, &n)); /* impossible length refused */
	assert_null(es_b64url_decode("ab c", 4, &n)); /* space refused */
	/* base64url encode */
	s = es_b64url_encode((const unsigned char *) "\xfb\xff", 2);
	assert_non_null(s);
	assert_string_equal(s, "-_8");
	free(s);
}

static void
test_pct_decode(void **state)
{
	char *s;

	(void) state;
	/* percent-decode keeps %2F inside the segment */
	s = es_pct_decode("order%2F42%20x", 14, 0);
	assert_non_null(s);
	assert_string_equal(s, "order/42 x");
	free(s);
	assert_null(es_pct_decode("a%2", 3, 0));   /* truncated escape refused */
	assert_null(es_pct_decode("a%zz", 4, 0));  /* bad hex refused */
	assert_null(es_pct_decode("a%00b", 5, 0)); /* encoded NUL refused */
	assert_null(es_pct_decode("%ff", 3, 0));   /* encoded invalid UTF-8 refused
												*/
	/* + is space in query */
	s = es_pct_decode("a+b", 3, 1);
	assert_non_null(s);
	assert_string_equal(s, "a b");
	free(s);
}

static void
test_query_param(void **state)
{
	char *q;

	(void) state;
	/* query param found */
	assert_int_equal(es_query_param("after=5&limit=10", "limit", &q), ES_OK);
	assert_non_null(q);
	assert_string_equal(q, "10");
	free(q);
	/* absent query param is NULL */
	assert_int_equal(es_query_param("after=5", "limit", &q), ES_OK);
	assert_null(q);
	/* malformed query param refused */
	assert_int_equal(es_query_param("limit=%zz", "limit", &q), ES_FAIL);
	/* empty query string */
	assert_int_equal(es_query_param("", "limit", &q), ES_OK);
	assert_null(q);
}

static void
test_parse_nonneg(void **state)
{
	long long v;

	(void) state;
	/* parse 42 */
	assert_int_equal(es_parse_nonneg("42", 100, &v), ES_OK);
	assert_int_equal(v, 42);
	assert_int_equal(es_parse_nonneg("-1", 100, &v), ES_FAIL);	/* negative
																   refused */
	assert_int_equal(es_parse_nonneg("101", 100, &v), ES_FAIL); /* above max
																   refused */
	/* int64 max */
	assert_int_equal(es_parse_nonneg("9223372036854775807", 9223372036854775807LL, &v),
					 ES_OK);
	/* int64 overflow refused */
	assert_int_equal(es_parse_nonneg("9223372036854775808", 9223372036854775807LL, &v),
					 ES_FAIL);
	assert_int_equal(es_parse_nonneg("1e3", 10000, &v), ES_FAIL); /* exponent
																	 refused */
	assert_int_equal(es_parse_nonneg("", 10, &v), ES_FAIL); /* empty refused */
}

static void
test_json_string_escape(void **state)
{
	es_buf b;

	(void) state;
	es_buf_init(&b);
	es_buf_json_string(&b, "a\"b\\c\n\x01");
	assert_string_equal(b.data, "\"a\\\"b\\\\c\\u000a\\u0001\""); /* JSON
																	 string
																	 escaping
																   */
	es_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xalloc_aborts_on_oom),
		cmocka_unit_test(test_xalloc_ok),
		cmocka_unit_test(test_cjson_hooks),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_pct_decode),
		cmocka_unit_test(test_query_param),
		cmocka_unit_test(test_parse_nonneg),
		cmocka_unit_test(test_json_string_escape),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}

/* test_http.c - content-type check (415), JSON body parsing rules, and the
 * reply renderer (status, headers, body of every reply). */
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
	es_error   err = {0};
	es_status  st;

	memset(&req, 0, sizeof(req));
	req.body = malloc(len + 1);
	memcpy(req.body, body, len);
	req.body[len] = '\0';
	req.body_len = len;
	st = es_http_parse_json(&req, &err);
	if (st != ES_OK &&
		(err.http_status != 400 || strcmp(err.code, "malformed_request") != 0))
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
	assert_int_equal(es_http_check_json_type("Application/JSON; charset=utf-8", &e),
					 ES_OK);
	/* missing Content-Type: 415 */
	assert_int_equal(es_http_check_json_type(NULL, &e), ES_FAIL);
	assert_int_equal(e.http_status, 415);
	/* text/plain: unsupported_media_type */
	assert_int_equal(es_http_check_json_type("text/plain", &e), ES_FAIL);
	assert_string_equal(e.code, "unsupported_media_type");
	/* application/jsonp refused */
	assert_int_equal(es_http_check_json_type("application/jsonp", &e), ES_FAIL);
	/* json-patch refused */
	assert_int_equal(es_http_check_json_type("application/json-patch+json", &e),
					 ES_FAIL);
	/* multipart refused */
	assert_int_equal(es_http_check_json_type("multipart/form-data; boundary=x", &e),
					 ES_FAIL);
	es_error_clear(&e);
}

static void
test_json_body(void **state)
{
	(void) state;
	assert_int_equal(parse("{\"a\":1}", 7), ES_OK); /* object parses */
	assert_int_equal(parse("  {\"a\":[1,2]}  \n", 16), ES_OK); /* surrounding
																  whitespace ok
																*/
	assert_int_equal(parse("{\"a\":1} x", 9), ES_FAIL); /* trailing garbage
														   refused */
	assert_int_equal(parse("{\"a\":1}{}", 9), ES_FAIL); /* two documents
														   refused */
	assert_int_equal(parse("{\"a\":1", 6), ES_FAIL);	/* truncated refused */
	assert_int_equal(parse("", 0), ES_FAIL);			/* empty refused */
	assert_int_equal(parse("{\"a\":\"\xff\"}", 9), ES_FAIL); /* invalid UTF-8
																refused */
	assert_int_equal(parse("{\"a\":1}\0", 8), ES_FAIL); /* raw NUL refused */
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

/* Render an error into its head + body text. */
static void
render(es_error *err, char *head, size_t hlen, char **body)
{
	es_response resp;

	es_render_error(err, &resp);
	assert_true(es_render_head(&resp, strlen(resp.body), 0, head, hlen) > 0);
	*body = resp.body;
}

static void
test_render_401(void **state)
{
	es_error e = {0};
	char	 head[1024];
	char	*body;

	(void) state;
	es_error_set(&e, 401, "missing_token", "authorization required");
	render(&e, head, sizeof(head), &body);
	assert_non_null(strstr(head, "HTTP/1.1 401 Unauthorized\r\n"));
	assert_non_null(strstr(head, "WWW-Authenticate: Bearer realm=\"es_saas\"\r\n"));
	assert_null(strstr(head, "Retry-After"));
	assert_string_equal(body, "{\"error\":{\"code\":\"missing_token\",\"message\":\"authorization required\",\"details\":{}}}");
	free(body);
	es_error_set(&e, 401, "invalid_token", "token expired");
	render(&e, head, sizeof(head), &body);
	assert_non_null(
		strstr(head, "WWW-Authenticate: Bearer realm=\"es_saas\", error=\"invalid_token\"\r\n"));
	free(body);
	es_error_clear(&e);
}

static void
test_render_405_503(void **state)
{
	es_error e = {0};
	char	 head[1024];
	char	*body;

	(void) state;
	es_error_method_not_allowed(&e, "DELETE", "GET, POST");
	render(&e, head, sizeof(head), &body);
	assert_non_null(strstr(head, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(head, "Allow: GET, POST\r\n"));
	assert_null(strstr(head, "Retry-After"));
	assert_non_null(
		strstr(body, "\"message\":\"method DELETE not allowed; allowed: GET, POST\""));
	free(body);

	es_error_set(&e, 503, "unavailable", "shutting down");
	render(&e, head, sizeof(head), &body);
	assert_non_null(strstr(head, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_non_null(strstr(head, "Retry-After: 5\r\n"));
	assert_non_null(strstr(head, "Content-Type: application/json\r\n"));
	assert_null(strstr(head, "Connection: close"));
	free(body);
	es_error_clear(&e);
}

/* No 500 ever leaves the gateway. */
static void
test_render_never_500(void **state)
{
	es_error e = {0};
	char	 head[1024];
	char	*body;

	(void) state;
	render(&e, head, sizeof(head), &body); /* handler failed without an error
											  value */
	assert_int_equal(e.http_status, 503);
	assert_string_equal(e.code, "unavailable");
	assert_non_null(strstr(body, "\"internal failure\""));
	assert_non_null(strstr(head, "Retry-After: 5\r\n"));
	free(body);
	es_error_set(&e, 500, NULL, "request rejected by the HTTP layer");
	render(&e, head, sizeof(head), &body);
	assert_non_null(strstr(head, "HTTP/1.1 503 Service Unavailable\r\n"));
	assert_non_null(
		strstr(body, "\"code\":\"unavailable\",\"message\":\"request rejected by the HTTP layer\""));
	free(body);
	es_error_clear(&e);
}

static void
test_render_success_head(void **state)
{
	es_response r = {0};
	char		head[1024];
	size_t		hlen;

	(void) state;
	r.status = 503;
	r.retry_after = 5;
	r.content_type = "text/plain; version=0.0.4; charset=utf-8";
	assert_true(es_render_head(&r, 12, 1, head, sizeof(head)) > 0);
	assert_string_equal(head, "HTTP/1.1 503 Service Unavailable\r\n"
							  "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
							  "Content-Length: 12\r\n"
							  "Cache-Control: no-store\r\n"
							  "X-Content-Type-Options: nosniff\r\n"
							  "Retry-After: 5\r\n"
							  "Connection: close\r\n\r\n");
	assert_int_equal(es_render_head(&r, 12, 1, head, 16), -1);
	assert_non_null(strstr(es_render_stream_head(&hlen),
						   "Content-Type: text/event-stream\r\n"));
	assert_int_equal(hlen, strlen(es_render_stream_head(&hlen)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_401),
		cmocka_unit_test(test_render_405_503),
		cmocka_unit_test(test_render_never_500),
		cmocka_unit_test(test_render_success_head),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_json_body),
		cmocka_unit_test(test_json_depth),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}

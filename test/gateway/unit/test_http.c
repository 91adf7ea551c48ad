/* test_http.c - content-type check (415) and JSON body parsing rules. */
#include <stdlib.h>

#include "http.h"
#include "tap.h"

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
		printf("# unexpected error %d %s\n", err.http_status, err.code);
	es_error_clear(&err);
	es_request_free(&req);
	return st;
}

int
main(void)
{
	es_error e = {0};
	char *deep;

	ok(es_http_check_json_type("application/json", &e) == ES_OK, "application/json accepted");
	ok(es_http_check_json_type("Application/JSON; charset=utf-8", &e) == ES_OK, "case-insensitive, parameters allowed");
	ok(es_http_check_json_type(NULL, &e) == ES_FAIL && e.http_status == 415, "missing Content-Type: 415");
	ok(es_http_check_json_type("text/plain", &e) == ES_FAIL && strcmp(e.code, "unsupported_media_type") == 0, "text/plain: unsupported_media_type");
	ok(es_http_check_json_type("application/jsonp", &e) == ES_FAIL, "application/jsonp refused");
	ok(es_http_check_json_type("application/json-patch+json", &e) == ES_FAIL, "json-patch refused");
	ok(es_http_check_json_type("multipart/form-data; boundary=x", &e) == ES_FAIL, "multipart refused");
	es_error_clear(&e);

	ok(parse("{\"a\":1}", 7) == ES_OK, "object parses");
	ok(parse("  {\"a\":[1,2]}  \n", 16) == ES_OK, "surrounding whitespace ok");
	ok(parse("{\"a\":1} x", 9) == ES_FAIL, "trailing garbage refused");
	ok(parse("{\"a\":1}{}", 9) == ES_FAIL, "two documents refused");
	ok(parse("{\"a\":1", 6) == ES_FAIL, "truncated refused");
	ok(parse("", 0) == ES_FAIL, "empty refused");
	ok(parse("{\"a\":\"\xff\"}", 9) == ES_FAIL, "invalid UTF-8 refused");
	ok(parse("{\"a\":1}\0", 8) == ES_FAIL, "raw NUL refused");
	deep = malloc(2 * 200 + 1);
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	ok(parse(deep, 400) == ES_FAIL, "200-deep nesting refused before cJSON recursion");
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	ok(parse(deep, 200) == ES_OK, "100-deep nesting accepted");
	free(deep);
	return done_testing();
}

/* test_util.c - UTF-8, UUID, base64url, percent-decoding, query params. */
#include <stdlib.h>

#include "tap.h"
#include "util.h"

int
main(void)
{
	size_t n;
	unsigned char *d;
	char *s, *q;
	long long v;

	ok(es_utf8_valid("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15), "valid UTF-8");
	ok(!es_utf8_valid("\xff", 1), "0xff invalid");
	ok(!es_utf8_valid("\xc0\xaf", 2), "overlong invalid");
	ok(!es_utf8_valid("\xed\xa0\x80", 3), "surrogate invalid");
	ok(!es_utf8_valid("\xe2\x82", 2), "truncated sequence invalid");
	ok(!es_utf8_valid("a\0b", 3), "NUL refused");
	ok(!es_utf8_valid("\xf4\x90\x80\x80", 4), "> U+10FFFF invalid");

	ok(es_json_depth_ok("[[{\"a\":[1]}]]", 13, 4), "depth 4 within 4");
	ok(!es_json_depth_ok("[[{\"a\":[1]}]]", 13, 3), "depth 4 over 3");
	ok(es_json_depth_ok("[\"[[[[\\\"[[[\"]", 16, 1), "brackets inside strings ignored");
	ok(es_uuid_valid("6f1c2a9e-1111-4a6b-9c1d-000000000001"), "uuid ok");
	ok(es_uuid_valid("6F1C2A9E-1111-4A6B-9C1D-00000000000A"), "uppercase uuid ok");
	ok(!es_uuid_valid("6f1c2a9e11114a6b9c1d000000000001"), "no dashes refused");
	ok(!es_uuid_valid("6f1c2a9e-1111-4a6b-9c1d-00000000000g"), "non-hex refused");
	ok(!es_uuid_valid("not-a-uuid"), "garbage refused");
	ok(!es_uuid_valid(NULL), "NULL refused");

	d = es_b64url_decode("eyJhbGciOiJIUzI1NiJ9", 20, &n);
	ok(d && n == 15 && memcmp(d, "{\"alg\":\"HS256\"}", 15) == 0, "base64url decode");
	free(d);
	ok(es_b64url_decode("ab+/", 4, &n) == NULL, "standard alphabet refused");
	ok(es_b64url_decode("a", 1, &n) == NULL, "impossible length refused");
	ok(es_b64url_decode("ab c", 4, &n) == NULL, "space refused");
	s = es_b64url_encode((const unsigned char *) "\xfb\xff", 2);
	is_str(s, "-_8", "base64url encode");
	free(s);

	s = es_pct_decode("order%2F42%20x", 14, 0);
	is_str(s, "order/42 x", "percent-decode keeps %%2F inside the segment");
	free(s);
	ok(es_pct_decode("a%2", 3, 0) == NULL, "truncated escape refused");
	ok(es_pct_decode("a%zz", 4, 0) == NULL, "bad hex refused");
	ok(es_pct_decode("a%00b", 5, 0) == NULL, "encoded NUL refused");
	ok(es_pct_decode("%ff", 3, 0) == NULL, "encoded invalid UTF-8 refused");
	s = es_pct_decode("a+b", 3, 1);
	is_str(s, "a b", "+ is space in query");
	free(s);

	ok(es_query_param("after=5&limit=10", "limit", &q) == ES_OK && q && strcmp(q, "10") == 0, "query param found");
	free(q);
	ok(es_query_param("after=5", "limit", &q) == ES_OK && q == NULL, "absent query param is NULL");
	ok(es_query_param("limit=%zz", "limit", &q) == ES_FAIL, "malformed query param refused");
	ok(es_query_param("", "limit", &q) == ES_OK && q == NULL, "empty query string");

	ok(es_parse_nonneg("42", 100, &v) == ES_OK && v == 42, "parse 42");
	ok(es_parse_nonneg("-1", 100, &v) == ES_FAIL, "negative refused");
	ok(es_parse_nonneg("101", 100, &v) == ES_FAIL, "above max refused");
	ok(es_parse_nonneg("9223372036854775807", 9223372036854775807LL, &v) == ES_OK, "int64 max");
	ok(es_parse_nonneg("9223372036854775808", 9223372036854775807LL, &v) == ES_FAIL, "int64 overflow refused");
	ok(es_parse_nonneg("1e3", 10000, &v) == ES_FAIL, "exponent refused");
	ok(es_parse_nonneg("", 10, &v) == ES_FAIL, "empty refused");
	{
		es_buf b;

		es_buf_init(&b);
		es_buf_json_string(&b, "a\"b\\c\n\x01");
		is_str(b.data, "\"a\\\"b\\\\c\\u000a\\u0001\"", "JSON string escaping");
		es_buf_free(&b);
	}
	return done_testing();
}

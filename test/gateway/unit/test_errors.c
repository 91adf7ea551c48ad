/* test_errors.c - the SQLSTATE -> HTTP table and the error body shape. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "errors.h"
#include "tap.h"

static void
check(const char *ss, const char *msg, const char *detail, int status, const char *code)
{
	es_error e = {0};

	es_error_from_sqlstate(&e, ss, msg, detail);
	is_int(e.http_status, status, "%s -> %d", ss ? ss : "(null)", status);
	is_str(e.code, code, "%s -> code %s", ss ? ss : "(null)", code);
	ok(e.http_status != 500, "%s never 500", ss ? ss : "(null)");
	es_error_clear(&e);
}

int
main(void)
{
	es_error e = {0};
	char *body;
	cJSON *j, *d;

	check("ES400", "invalid tenant id", NULL, 400, "malformed_request");
	check("ES403", "no", NULL, 403, "forbidden");
	check("ES404", "tenant does not exist", "{\"tenant\":\"x\"}", 404, "not_found");
	check("ES409", "wrong expected version", "{\"current_version\": 3}", 409, "wrong_expected_version");
	check("ES409", "duplicate", "{\"event_id\": \"x\"}", 409, "conflict");
	check("ES409", "duplicate", "not json", 409, "conflict");
	check("ES422", "command rejected: out of stock", NULL, 422, "command_rejected");
	check("ES422", "invalid event", NULL, 422, "invalid_content");
	check("ES423", "tenant suspended", NULL, 423, "tenant_suspended");
	check("ES429", "too many events", NULL, 429, "limit_exceeded");
	check("ES500", "odd", NULL, 503, "unavailable");
	check("ES504", "odd", NULL, 504, "timeout");
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
	check(NULL, NULL, NULL, 503, "unavailable");
	check("", NULL, NULL, 503, "unavailable");
	check("ESabc", NULL, NULL, 503, "unavailable");

	/* details parsed from errdetail, message kept for ES codes only */
	es_error_from_sqlstate(&e, "ES409", "wrong expected version", "{\"current_version\": 3}");
	body = es_error_body(&e);
	j = cJSON_Parse(body);
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "details");
	is_int(cJSON_GetObjectItem(d, "current_version") ? cJSON_GetObjectItem(d, "current_version")->valueint : -1, 3,
		   "details.current_version = 3");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message")),
		   "wrong expected version", "ES message passed through");
	cJSON_Delete(j);
	free(body);
	es_error_from_sqlstate(&e, "42P01", "relation \"secret_table\" does not exist", "internal detail");
	body = es_error_body(&e);
	ok(strstr(body, "secret_table") == NULL && strstr(body, "internal detail") == NULL,
	   "non-ES message and detail are not leaked: %s", body);
	ok(strstr(body, "\"details\":{}") != NULL, "details is an empty object");
	free(body);
	is_int(e.retry_after, 5, "503 carries Retry-After");
	es_error_clear(&e);

	es_error_set(&e, 413, NULL, "too big %d", 5);
	is_str(e.code, "payload_too_large", "default code for 413");
	is_str(e.message, "too big 5", "formatted message");
	es_error_clear(&e);
	is_str(es_error_code_for_status(415), "unsupported_media_type", "415 code");
	return done_testing();
}

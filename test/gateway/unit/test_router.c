/* test_router.c - template matching, 404/405, path parameter decoding,
 * OpenAPI. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "router.h"

static es_status
h(struct es_request *r, struct es_response *p, es_error *e)
{
	(void) r;
	(void) p;
	(void) e;
	return ES_OK;
}

/* same templates as the gateway's table (routes.c) */
static const es_route table[] = {
	{"GET", "/health", h, 0, 200, "health", NULL, "ops", "getHealth", NULL,
	 "Health", "414,503:Health"},
	{"GET", "/metrics", h, ES_ROUTE_TEXT, 200, "metrics", NULL, "ops",
	 "getMetrics", NULL, NULL, "414"},
	{"POST", "/api/v1/tenants", h, ES_ROUTE_AUTH | ES_ROUTE_BODY, 201,
	 "create", NULL, "tenants", "createTenant", "TenantCreate", "Tenant",
	 "400,401,403,409,413,414,415,503,504"},
	{"GET", "/api/v1/tenants/{id}", h, ES_ROUTE_AUTH, 200, "get", NULL,
	 "tenants", "getTenant", NULL, "Tenant", "400,401,403,404,414,503,504"},
	{"POST", "/api/v1/commands/execute", h, ES_ROUTE_AUTH | ES_ROUTE_BODY, 200,
	 "exec", NULL, "commands", "executeCommand", "Command", "CommandResult",
	 "400,401,403,404,409,413,414,415,422,423,503,504"},
	{"GET", "/api/v1/commands/{id}", h, ES_ROUTE_AUTH, 200, "cmd", NULL,
	 "commands", "getCommand", NULL, "CommandFate", "400,401,403,404,414,503,504"},
	{"GET", "/api/v1/streams/{stream}", h, ES_ROUTE_AUTH, 200, "stream",
	 "from_version:integer,limit:integer", "streams", "readStream", NULL,
	 "StreamRead", "400,401,403,404,414,503,504"},
	{"GET", "/api/v1/events", h, ES_ROUTE_AUTH | ES_ROUTE_SSE, 200, "events",
	 "after:integer,limit:integer", "events", "readEvents", NULL, "EventList",
	 "400,401,403,404,414,503,504"},
};
#define N (sizeof(table) / sizeof(table[0]))

static void
test_exact_match(void **state)
{
	es_route_match m;

	(void) state;
	assert_int_equal(es_router_match(table, N, "GET", "/health", &m),
					 ES_MATCH_OK);					   /* exact match */
	assert_string_equal(m.route->template, "/health"); /* endpoint label is the
														  template */
	es_route_match_free(&m);
}

static void
test_param_match(void **state)
{
	es_route_match m;

	(void) state;
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/tenants/acme", &m),
					 ES_MATCH_OK); /* param match */
	assert_string_equal(m.route->template, "/api/v1/tenants/{id}"); /* template
																	   label,
																	   not raw
																	   path */
	assert_string_equal(m.params[0], "acme"); /* param captured */
	es_route_match_free(&m);

	/* encoded slash stays in segment */
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/streams/order%2F42", &m),
					 ES_MATCH_OK);
	assert_string_equal(m.params[0], "order/42"); /* decoded stream name */
	es_route_match_free(&m);
}

static void
test_bad_params(void **state)
{
	es_route_match m;

	(void) state;
	/* raw slash is another segment */
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/streams/a/b", &m),
					 ES_MATCH_NOT_FOUND);
	es_route_match_free(&m);
	/* empty param does not match */
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/streams/", &m),
					 ES_MATCH_NOT_FOUND);
	es_route_match_free(&m);
	/* bad escape is a bad param */
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/streams/%zz", &m),
					 ES_MATCH_BAD_PARAM);
	es_route_match_free(&m);
	/* encoded NUL is a bad param */
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/streams/a%00b", &m),
					 ES_MATCH_BAD_PARAM);
	es_route_match_free(&m);
}

static void
test_bad_method(void **state)
{
	es_route_match m;

	(void) state;
	/* wrong method is 405 */
	assert_int_equal(es_router_match(table, N, "DELETE", "/api/v1/tenants", &m),
					 ES_MATCH_BAD_METHOD);
	assert_string_equal(m.allow, "POST"); /* Allow lists POST */
	es_route_match_free(&m);
	/* POST on GET-only template is 405 */
	assert_int_equal(es_router_match(table, N, "POST", "/api/v1/commands/abc", &m),
					 ES_MATCH_BAD_METHOD);
	es_route_match_free(&m);
	/* GET commands/execute hits {id} */
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/commands/execute", &m),
					 ES_MATCH_OK);
	assert_string_equal(m.route->template, "/api/v1/commands/{id}"); /* ... as
																		the
																		{id}
																		route
																	  */
	es_route_match_free(&m);
}

static void
test_not_found(void **state)
{
	es_route_match m;

	(void) state;
	assert_int_equal(es_router_match(table, N, "GET", "/nope", &m),
					 ES_MATCH_NOT_FOUND); /* unknown route */
	es_route_match_free(&m);
	/* trailing slash is another path */
	assert_int_equal(es_router_match(table, N, "GET", "/health/", &m),
					 ES_MATCH_NOT_FOUND);
	es_route_match_free(&m);
	assert_int_equal(es_router_match(table, N, "GET", "", &m),
					 ES_MATCH_NOT_FOUND); /* empty path */
	es_route_match_free(&m);
	/* dot segments do not match */
	assert_int_equal(es_router_match(table, N, "GET", "/api/v1/tenants/a/../b", &m),
					 ES_MATCH_NOT_FOUND);
	es_route_match_free(&m);
}

/* doc.paths[path][method] */
static cJSON *
op(cJSON *doc, const char *path, const char *method)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "paths"), path),
							   method);
}

static cJSON *
op_status(cJSON *doc, const char *path, const char *method, const char *status)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(op(doc, path, method), "responses"),
							   status);
}

/* Every "$ref" under j resolves inside doc ("#/components/<kind>/<name>"). */
static int
refs_resolve(cJSON *doc, cJSON *j)
{
	cJSON *it;

	if (cJSON_IsString(j) && j->string && strcmp(j->string, "$ref") == 0)
	{
		char kind[64], name[128];

		if (sscanf(j->valuestring, "#/components/%63[^/]/%127s", kind, name) != 2)
			return 0;
		return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "components"),
													   kind),
								   name) != NULL;
	}
	cJSON_ArrayForEach(it, j)
	{
		if (!refs_resolve(doc, it))
			return 0;
	}
	return 1;
}

static void
test_openapi(void **state)
{
	cJSON *doc, *paths, *sec, *ok, *resps;
	char  *oa;

	(void) state;
	oa = es_router_openapi(table, N, "9.9");
	assert_non_null(oa);
	doc = cJSON_Parse(oa);
	assert_non_null(doc); /* openapi is JSON */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "openapi")),
						"3.1.0");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "info"), "license"));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "servers")), 1);
	paths = cJSON_GetObjectItem(doc, "paths");
	assert_int_equal(cJSON_GetArraySize(paths), 8); /* one per distinct
													   template */
	assert_string_equal(cJSON_GetStringValue(
							cJSON_GetObjectItem(op(doc, "/api/v1/tenants/{id}", "get"),
												"operationId")),
						"getTenant");
	assert_non_null(op_status(doc, "/api/v1/tenants", "post", "201"));
	assert_non_null(strstr(oa, "\"from_version\"")); /* query parameters */
	/* global bearer security; public routes lift it with security: [] */
	assert_non_null(
		cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "security"), 0),
							"bearer"));
	sec = cJSON_GetObjectItem(op(doc, "/health", "get"), "security");
	assert_true(cJSON_IsArray(sec) && cJSON_GetArraySize(sec) == 0);
	assert_null(cJSON_GetObjectItem(op(doc, "/api/v1/events", "get"), "security"));
	/* only the statuses a route can return */
	assert_null(op_status(doc, "/health", "get", "409"));
	assert_null(op_status(doc, "/health", "get", "401"));
	assert_null(op_status(doc, "/api/v1/streams/{stream}", "get", "413"));
	assert_null(op_status(doc, "/api/v1/streams/{stream}", "get", "409"));
	assert_non_null(op_status(doc, "/api/v1/commands/execute", "post", "409"));
	assert_non_null(op_status(doc, "/api/v1/commands/execute", "post", "413"));
	assert_null(op_status(doc, "/api/v1/commands/execute", "post", "429"));
	/* /health's 503 is a Health body, not an Error */
	ok = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(op_status(doc, "/health",
																			   "get", "503"),
																	 "content"),
												 "application/json"),
							 "schema");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(ok, "$ref")),
						"#/components/schemas/Health");
	/* media types */
	ok = cJSON_GetObjectItem(op_status(doc, "/metrics", "get", "200"), "content");
	assert_non_null(cJSON_GetObjectItem(ok, "text/plain; version=0.0.4"));
	assert_null(cJSON_GetObjectItem(ok, "application/json"));
	ok = cJSON_GetObjectItem(op_status(doc, "/api/v1/events", "get", "200"), "content");
	assert_non_null(cJSON_GetObjectItem(ok, "application/json"));
	assert_non_null(cJSON_GetObjectItem(ok, "text/event-stream"));
	/* shared error responses: only the used ones (no 429 here) */
	resps = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "components"), "responses");
	assert_non_null(cJSON_GetObjectItem(resps, "Conflict"));
	assert_null(cJSON_GetObjectItem(resps, "TooManyRequests"));
	assert_true(refs_resolve(doc, doc));
	cJSON_Delete(doc);
	free(oa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_match), cmocka_unit_test(test_param_match),
		cmocka_unit_test(test_bad_params),	cmocka_unit_test(test_bad_method),
		cmocka_unit_test(test_not_found),	cmocka_unit_test(test_openapi),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}

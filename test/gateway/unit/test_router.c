/* test_router.c - template matching, 404/405, path parameter decoding, OpenAPI. */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "router.h"
#include "tap.h"

static es_status h(struct es_request *r, struct es_response *p, es_error *e)
{
	(void) r; (void) p; (void) e;
	return ES_OK;
}

/* same templates as the gateway's table (routes.c) */
static const es_route table[] = {
	{"GET", "/health", h, 0, 200, "health", NULL, "ops"},
	{"POST", "/api/v1/tenants", h, ES_ROUTE_AUTH | ES_ROUTE_BODY, 201, "create", NULL, "tenants"},
	{"GET", "/api/v1/tenants/{id}", h, ES_ROUTE_AUTH, 200, "get", NULL, "tenants"},
	{"POST", "/api/v1/commands/execute", h, ES_ROUTE_AUTH | ES_ROUTE_BODY, 200, "exec", NULL, "commands"},
	{"GET", "/api/v1/commands/{id}", h, ES_ROUTE_AUTH, 200, "cmd", NULL, "commands"},
	{"GET", "/api/v1/streams/{stream}", h, ES_ROUTE_AUTH, 200, "stream", "from_version:integer,limit:integer", "streams"},
	{"GET", "/api/v1/events", h, ES_ROUTE_AUTH | ES_ROUTE_SSE, 200, "events", "after:integer,limit:integer", "events"},
};
#define N (sizeof(table) / sizeof(table[0]))

int
main(void)
{
	es_route_match m;
	cJSON *doc, *paths;
	char *oa;

	is_int(es_router_match(table, N, "GET", "/health", &m), ES_MATCH_OK, "exact match");
	is_str(m.route->template, "/health", "endpoint label is the template");
	es_route_match_free(&m);

	is_int(es_router_match(table, N, "GET", "/api/v1/tenants/acme", &m), ES_MATCH_OK, "param match");
	is_str(m.route->template, "/api/v1/tenants/{id}", "template label, not raw path");
	is_str(m.params[0], "acme", "param captured");
	es_route_match_free(&m);

	is_int(es_router_match(table, N, "GET", "/api/v1/streams/order%2F42", &m), ES_MATCH_OK, "encoded slash stays in segment");
	is_str(m.params[0], "order/42", "decoded stream name");
	es_route_match_free(&m);

	is_int(es_router_match(table, N, "GET", "/api/v1/streams/a/b", &m), ES_MATCH_NOT_FOUND, "raw slash is another segment");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "/api/v1/streams/", &m), ES_MATCH_NOT_FOUND, "empty param does not match");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "/api/v1/streams/%zz", &m), ES_MATCH_BAD_PARAM, "bad escape is a bad param");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "/api/v1/streams/a%00b", &m), ES_MATCH_BAD_PARAM, "encoded NUL is a bad param");
	es_route_match_free(&m);

	is_int(es_router_match(table, N, "DELETE", "/api/v1/tenants", &m), ES_MATCH_BAD_METHOD, "wrong method is 405");
	is_str(m.allow, "POST", "Allow lists POST");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "POST", "/api/v1/commands/abc", &m), ES_MATCH_BAD_METHOD, "POST on GET-only template is 405");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "/api/v1/commands/execute", &m), ES_MATCH_OK, "GET commands/execute hits {id}");
	is_str(m.route->template, "/api/v1/commands/{id}", "... as the {id} route");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "/nope", &m), ES_MATCH_NOT_FOUND, "unknown route");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "/health/", &m), ES_MATCH_NOT_FOUND, "trailing slash is another path");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "", &m), ES_MATCH_NOT_FOUND, "empty path");
	es_route_match_free(&m);
	is_int(es_router_match(table, N, "GET", "/api/v1/tenants/a/../b", &m), ES_MATCH_NOT_FOUND, "dot segments do not match");
	es_route_match_free(&m);

	oa = es_router_openapi(table, N, "9.9");
	doc = cJSON_Parse(oa);
	ok(doc != NULL, "openapi is JSON");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "openapi")), "3.0.3", "openapi version");
	paths = cJSON_GetObjectItem(doc, "paths");
	is_int(cJSON_GetArraySize(paths), 7, "one path per distinct template");
	ok(cJSON_GetObjectItem(cJSON_GetObjectItem(paths, "/api/v1/tenants/{id}"), "get") != NULL, "GET tenants/{id} present");
	ok(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(paths, "/api/v1/tenants"), "post"), "responses"), "201") != NULL,
	   "POST tenants documents 201");
	ok(strstr(oa, "\"from_version\"") != NULL, "query parameters documented");
	ok(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(paths, "/health"), "get"), "security") == NULL,
	   "/health has no security requirement");
	cJSON_Delete(doc);
	free(oa);
	return done_testing();
}

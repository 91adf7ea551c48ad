/*
 * routes.c - the gateway's route table (contract section 4).  The template
 * string is the metrics endpoint label and the OpenAPI path; the last four
 * fields describe the operation in GET /api/v1/openapi.json.
 *
 * Error statuses, from the pipeline (pipeline.c) and the handlers: 414 on
 * every route (URI length is checked before matching); 401 and 503
 * (draining) where a token is needed, 403 where a role, a tenant claim or
 * the tenant grant is checked; 400/408/413/415/429 with a body (408: body
 * deadline, 429: per-client cap, 503: no worker left outside the reserve);
 * 202 when a command is spooled (spool.h); 503/504 wherever
 * the database is called, with the ESnnn statuses the called functions
 * raise (README error table); 304 on the cacheable reads (If-None-Match,
 * cache.c).
 */
#include "handlers.h"
#include "router.h"

#define AUTH   ES_ROUTE_AUTH
#define BODY   ES_ROUTE_BODY
#define TENANT ES_ROUTE_TENANT
#define ADMIN  ES_ROUTE_ADMIN

const es_route es_routes[] = {
	{"GET", "/health", es_h_health, 0, 200, "Live database ping plus breaker states",
	 NULL, "operations", "getHealth", NULL, "Health", "414,503:Health"},
	{"GET", "/health/live", es_h_live, 0, 200, "Process alive", NULL,
	 "operations", "getLiveness", NULL, "Probe", "414,503:Probe"},
	{"GET", "/health/ready", es_h_ready, 0, 200, "Ready to serve (database reachable)",
	 NULL, "operations", "getReadiness", NULL, "Probe", "414,503:Probe"},
	{"GET", "/metrics", es_h_metrics, ES_ROUTE_TEXT, 200, "Prometheus metrics",
	 NULL, "operations", "getMetrics", NULL, NULL, "414"},
	{"POST", "/api/v1/tenants", es_h_create_tenant, AUTH | BODY | ADMIN, 201,
	 "Create a tenant (admin)", NULL, "tenants", "createTenant",
	 "TenantCreate", "Tenant", "400,401,403,408,409,413,414,415,429,503,504"},
	{"GET", "/api/v1/tenants/{id}", es_h_get_tenant, AUTH, 200,
	 "Get a tenant (admin or own tenant)", NULL, "tenants", "getTenant", NULL,
	 "Tenant", "400,401,403,404,414,503,504"},
	{"POST", "/api/v1/commands/execute", es_h_execute_command,
	 AUTH | BODY | TENANT, 200, "Execute a command (es_execute)", NULL,
	 "commands", "executeCommand", "Command", "CommandResult",
	 "202:CommandPending,400,401,403,404,408,409,413,414,415,422,423,429,503,504"},
	{"GET", "/api/v1/commands/{id}", es_h_get_command, AUTH | TENANT, 200,
	 "Fate of a command", NULL, "commands", "getCommand", NULL, "CommandFate",
	 "202:CommandPending,400,401,403,404,409,414,422,423,503,504"},
	{"POST", "/api/v1/queries/execute", es_h_execute_query, AUTH | BODY | TENANT,
	 200, "Run a query (es_query)", NULL, "queries", "executeQuery", "Query",
	 "QueryResult", "304,400,401,403,404,408,413,414,415,422,429,503,504"},
	{"GET", "/api/v1/streams/{stream}", es_h_read_stream, AUTH | TENANT, 200,
	 "Read a stream", "from_version:integer,limit:integer", "streams",
	 "readStream", NULL, "StreamRead", "304,400,401,403,404,414,503,504"},
	{"GET", "/api/v1/events", es_h_read_events, AUTH | TENANT | ES_ROUTE_SSE,
	 200, "Read the tenant log; text/event-stream subscribes",
	 "after:integer,limit:integer", "events", "readEvents", NULL, "EventList",
	 "304,400,401,403,404,414,503,504"},
	{"GET", "/api/v1/openapi.json", es_h_openapi, 0, 200, "This document",
	 NULL, "operations", "getOpenApi", NULL, "OpenApiDocument", "414"},
};

const size_t es_routes_count = sizeof(es_routes) / sizeof(es_routes[0]);

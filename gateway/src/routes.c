/*
 * routes.c - the gateway's route table (contract section 4).  The template
 * string is the metrics endpoint label and the OpenAPI path.
 */
#include "handlers.h"
#include "router.h"

#define AUTH   ES_ROUTE_AUTH
#define BODY   ES_ROUTE_BODY
#define TENANT ES_ROUTE_TENANT
#define ADMIN  ES_ROUTE_ADMIN

const es_route es_routes[] = {
	{"GET", "/health", es_h_health, 0, 200,
	 "Live database ping plus breaker states", NULL, "operations"},
	{"GET", "/health/live", es_h_live, 0, 200, "Process alive", NULL, "operations"},
	{"GET", "/health/ready", es_h_ready, 0, 200,
	 "Ready to serve (database reachable)", NULL, "operations"},
	{"GET", "/metrics", es_h_metrics, 0, 200, "Prometheus metrics", NULL, "operations"},
	{"POST", "/api/v1/tenants", es_h_create_tenant, AUTH | BODY | ADMIN, 201,
	 "Create a tenant (admin)", NULL, "tenants"},
	{"GET", "/api/v1/tenants/{id}", es_h_get_tenant, AUTH, 200,
	 "Get a tenant (admin or own tenant)", NULL, "tenants"},
	{"POST", "/api/v1/commands/execute", es_h_execute_command, AUTH | BODY | TENANT,
	 200, "Execute a command (es_execute)", NULL, "commands"},
	{"GET", "/api/v1/commands/{id}", es_h_get_command, AUTH | TENANT, 200,
	 "Fate of a command", NULL, "commands"},
	{"POST", "/api/v1/queries/execute", es_h_execute_query,
	 AUTH | BODY | TENANT, 200, "Run a query (es_query)", NULL, "queries"},
	{"GET", "/api/v1/streams/{stream}", es_h_read_stream, AUTH | TENANT, 200,
	 "Read a stream", "from_version:integer,limit:integer", "streams"},
	{"GET", "/api/v1/events", es_h_read_events, AUTH | TENANT | ES_ROUTE_SSE,
	 200, "Read the tenant log; text/event-stream subscribes",
	 "after:integer,limit:integer", "events"},
	{"GET", "/api/v1/openapi.json", es_h_openapi, 0, 200, "This document",
	 NULL, "operations"},
};

const size_t es_routes_count = sizeof(es_routes) / sizeof(es_routes[0]);

/*
 * router.h - route table: method + path template -> handler + metrics label.
 * The same table generates GET /api/v1/openapi.json.  Tables are constant;
 * matching is pure and thread-safe.
 */
#ifndef ES_ROUTER_H
#define ES_ROUTER_H

#include <stddef.h>

#include "errors.h"

#define ES_MAX_PATH_PARAMS 4

struct es_request;
struct es_response;

typedef es_status (*es_handler_fn)(struct es_request  *req,
								   struct es_response *resp, es_error *err);

enum
{
	ES_ROUTE_AUTH = 1 << 0,	  /* Bearer JWT required */
	ES_ROUTE_BODY = 1 << 1,	  /* JSON request body */
	ES_ROUTE_TENANT = 1 << 2, /* token must carry tenant_id */
	ES_ROUTE_ADMIN = 1 << 3,  /* admin role required */
	ES_ROUTE_SSE = 1 << 4,	  /* may answer text/event-stream */
	ES_ROUTE_TEXT = 1 << 5	  /* success is Prometheus text, not JSON */
};

typedef struct es_route
{
	const char *method;
	const char *template; /* also the metrics endpoint label */
	es_handler_fn handler;
	unsigned	  flags;
	int			  success_status;
	const char	 *summary;
	const char	 *query_params; /* "name:type,name:type" or NULL */
	const char	 *tag;
	/* OpenAPI: operationId, component schema names of the JSON request and
	 * success bodies, and the error statuses the route can answer, as
	 * "400,401,503:Health" (":Schema" when the body is not the Error) */
	const char *operation_id;
	const char *request_schema;
	const char *response_schema;
	const char *errors;
} es_route;

typedef enum es_match
{
	ES_MATCH_OK,
	ES_MATCH_NOT_FOUND,
	ES_MATCH_BAD_METHOD,
	ES_MATCH_BAD_PARAM
} es_match;

typedef struct es_route_match
{
	const es_route *route;
	int				nparams;
	char		   *params[ES_MAX_PATH_PARAMS]; /* percent-decoded, malloc'd */
	char			allow[64];					/* for 405: "GET, POST" */
} es_route_match;

/* Match a raw (still percent-encoded) path against the table. */
es_match es_router_match(const es_route *table, size_t n, const char *method,
						 const char *raw_path, es_route_match *m) ES_MUSTCHECK;
void	 es_route_match_free(es_route_match *m);

/* OpenAPI 3.1 document for the table (malloc'd JSON). */
char *es_router_openapi(const es_route *table, size_t n, const char *version);

/* The gateway's own table (routes.c). */
extern const es_route es_routes[];
extern const size_t	  es_routes_count;

#endif
